// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import "../lib/EIP20Interface.sol";

/// @notice What `Stake` needs from `OriginCore`: opening the genesis kernel K0.
interface OriginCoreKernelOpener {
    function openKernel(address[] calldata updatedValidators, uint256[] calldata updatedWeights) external;
}

/// @title Stake
/// @notice Holds the validators' staked OST on origin and answers which validator carries which
///         weight at which meta-block height. `OriginCore` deploys it, the deployer seeds the
///         genesis validator set once (`initialize`, optionally after `registerValidators` in
///         chunks when the set does not fit one block), which opens K0, and later validators
///         join through `deposit` from the next kernel on. Validators are keyed by their
///         auxiliary address, the key they vote with (contracts/README.md).
/// @dev Stakes are never withdrawn here, so a validator's weight is constant from its start
///      height on and the total weight only grows; that keeps every view O(1).
///
///      Liveness: committing a meta-block opens the next kernel with the validators that joined
///      meanwhile, so the commit's gas grows with the joiners. A kernel takes at most
///      `MAX_JOINERS_PER_KERNEL` of them, and a joiner must bring at least `minimumWeight` and
///      at least 1/`DUST_DIVISOR` of the weight already staked: no one can make a commit
///      outgrow a block, and filling a kernel's places costs real, compounding stake.
///
///      Every genesis validator costs a constant amount of gas (no loop inside a loop): its
///      entry (depositor and stake share one slot), its place in `validatorAddresses`, its
///      origin address marked as used, and its token transfer.
contract Stake {
    struct Validator {
        address depositor; // origin address the stake was pulled from
        uint96 stake;
        uint256 startHeight;
    }

    /// @notice The most validators one kernel can bring in (the kernel `OriginCore` opens when
    ///         a meta-block commits, and that `KernelGateway` proves on the auxiliary chain).
    uint256 public constant MAX_JOINERS_PER_KERNEL = 32;
    /// @notice A joiner's stake must be at least the total weight divided by this (0.1 %).
    uint256 public constant DUST_DIVISOR = 1000;

    EIP20Interface public immutable token;
    address public immutable originCore;
    uint256 public immutable minimumWeight;
    /// @notice The only account allowed to register the genesis validators (OriginCore's deployer).
    address public immutable initializer;

    bool public initialized;
    /// @notice Height of the kernel that is open in `OriginCore`.
    uint256 public openHeight;
    mapping(address => Validator) public validators;
    /// @notice Origin address => the auxiliary address it staked for in the genesis set.
    mapping(address => address) public genesisValidatorOf;

    /// @dev Every validator in the order it registered: the genesis set first, then each
    ///      kernel's joiners. Kernel h's joiners are `validatorAddresses[kernelStart[h]:kernelStart[h + 1]]`
    ///      (up to the array's end for the next kernel, which is still taking deposits).
    address[] private validatorAddresses;
    mapping(uint256 => uint256) private kernelStart;
    /// @dev Total weight for every height up to `openHeight`.
    mapping(uint256 => uint256) private totalWeightAt;

    event ValidatorDeposited(
        address indexed auxiliaryAddress, address indexed depositor, uint256 stake, uint256 startHeight
    );
    event Initialized(uint256 validatorCount, uint256 totalWeight);
    event HeightAdvanced(uint256 indexed height, uint256 joinedValidators, uint256 totalWeight);

    constructor(address token_, address originCore_, uint256 minimumWeight_, address initializer_) {
        // A zero minimum would let a zero stake register, and a zero stake is how this contract
        // tells "no validator" apart.
        require(minimumWeight_ > 0, "Stake: minimum weight is zero");
        require(minimumWeight_ <= type(uint96).max, "Stake: minimum weight too large");
        token = EIP20Interface(token_);
        originCore = originCore_;
        minimumWeight = minimumWeight_;
        initializer = initializer_;
    }

    /// @notice Registers a chunk of the genesis validators and pulls their stakes (each must
    ///         have approved this contract). For a genesis set too large for one block: call
    ///         this for every chunk but the last, then `initialize` with the last one.
    function registerValidators(
        address[] calldata originAddresses,
        address[] calldata auxiliaryAddresses,
        uint256[] calldata stakes
    ) external {
        _checkGenesisCaller();
        require(auxiliaryAddresses.length > 0, "Stake: no validators");
        _registerGenesis(originAddresses, auxiliaryAddresses, stakes);
    }

    /// @notice Registers the (last chunk of the) genesis validators, pulls their stakes and opens
    ///         K0 in `OriginCore` with every genesis validator in registration order and its stake.
    function initialize(
        address[] calldata originAddresses,
        address[] calldata auxiliaryAddresses,
        uint256[] calldata stakes
    ) external {
        _checkGenesisCaller();
        _registerGenesis(originAddresses, auxiliaryAddresses, stakes);
        uint256 count = validatorAddresses.length;
        require(count > 0, "Stake: no validators");
        initialized = true;
        kernelStart[1] = count;
        emit Initialized(count, totalWeightAt[0]);

        (address[] memory genesis, uint256[] memory weights) = _slice(0, count);
        OriginCoreKernelOpener(originCore).openKernel(genesis, weights);
    }

    /// @notice Joins a new validator, staked by the caller, from the next kernel on: it appears
    ///         in the `updatedValidators` of the kernel that `OriginCore` opens next.
    function deposit(address auxiliaryAddress, uint256 amount) external {
        require(initialized, "Stake: not initialized");
        uint256 next = openHeight + 1;
        require(
            validatorAddresses.length - kernelStart[next] < MAX_JOINERS_PER_KERNEL,
            "Stake: the next kernel is full"
        );
        require(amount >= totalWeightAt[openHeight] / DUST_DIVISOR, "Stake: stake below 0.1% of the total weight");
        _register(auxiliaryAddress, msg.sender, amount, next);
        _pull(msg.sender, amount);
    }

    /// @notice Called by `OriginCore` when it commits the meta-block at `openHeight`; returns the
    ///         validators that join with the next kernel and their weights.
    function advanceHeight() external returns (address[] memory updatedValidators, uint256[] memory updatedWeights) {
        require(msg.sender == originCore, "Stake: only origin core");
        uint256 next = openHeight + 1;
        uint256 end = validatorAddresses.length;
        (updatedValidators, updatedWeights) = _slice(kernelStart[next], end);
        uint256 total = totalWeightAt[openHeight];
        for (uint256 i = 0; i < updatedWeights.length; i++) {
            total += updatedWeights[i];
        }
        totalWeightAt[next] = total;
        kernelStart[next + 1] = end;
        openHeight = next;
        emit HeightAdvanced(next, updatedValidators.length, total);
    }

    /// @notice Auxiliary addresses of every registered validator, including those that only
    ///         start at a later height (check `weight`).
    function getValidatorAddresses() external view returns (address[] memory) {
        return validatorAddresses;
    }

    /// @notice Validators that deposited while the current kernel was open.
    function getPendingValidators() external view returns (address[] memory pending) {
        (pending,) = _slice(kernelStart[openHeight + 1], validatorAddresses.length);
    }

    /// @notice The validators kernel `height` brings in (all genesis validators for K0) and their
    ///         weights, in the order the kernel hash covers them; for `openHeight + 1` the
    ///         deposits so far.
    function getKernelValidators(uint256 height)
        external
        view
        returns (address[] memory updatedValidators, uint256[] memory updatedWeights)
    {
        if (!initialized || height > openHeight + 1) {
            return (updatedValidators, updatedWeights);
        }
        uint256 end = height == openHeight + 1 ? validatorAddresses.length : kernelStart[height + 1];
        return _slice(kernelStart[height], end);
    }

    /// @notice The weight `validator` (an auxiliary address) votes with at `height`; 0 when it
    ///         is not a validator at that height.
    function weight(uint256 height, address validator) external view returns (uint256) {
        Validator storage entry = validators[validator];
        if (entry.stake == 0 || entry.startHeight > height) {
            return 0;
        }
        return entry.stake;
    }

    function totalWeightAtHeight(uint256 height) external view returns (uint256 total) {
        if (height <= openHeight) {
            return totalWeightAt[height];
        }
        total = totalWeightAt[openHeight];
        for (uint256 i = kernelStart[openHeight + 1]; i < validatorAddresses.length; i++) {
            total += validators[validatorAddresses[i]].stake;
        }
    }

    /// @notice The smallest stake `deposit` accepts right now.
    function minimumDeposit() external view returns (uint256) {
        uint256 share = totalWeightAt[openHeight] / DUST_DIVISOR;
        return share > minimumWeight ? share : minimumWeight;
    }

    function _checkGenesisCaller() private view {
        require(msg.sender == initializer, "Stake: only initializer");
        require(!initialized, "Stake: already initialized");
    }

    /// @dev Linear in the chunk: each origin address is marked as used in storage, so a
    ///      duplicate is found in O(1) within a chunk and across chunks alike.
    function _registerGenesis(
        address[] calldata originAddresses,
        address[] calldata auxiliaryAddresses,
        uint256[] calldata stakes
    ) private {
        uint256 count = auxiliaryAddresses.length;
        require(originAddresses.length == count && stakes.length == count, "Stake: length mismatch");
        uint256 total = totalWeightAt[0];
        for (uint256 i = 0; i < count; i++) {
            address origin = originAddresses[i];
            address auxiliary = auxiliaryAddresses[i];
            require(genesisValidatorOf[origin] == address(0), "Stake: duplicate origin address");
            _register(auxiliary, origin, stakes[i], 0);
            genesisValidatorOf[origin] = auxiliary;
            total += stakes[i];
        }
        totalWeightAt[0] = total;
        for (uint256 i = 0; i < count; i++) {
            _pull(originAddresses[i], stakes[i]);
        }
    }

    function _register(address auxiliaryAddress, address depositor, uint256 amount, uint256 startHeight) private {
        require(auxiliaryAddress != address(0) && depositor != address(0), "Stake: zero address");
        Validator storage entry = validators[auxiliaryAddress];
        require(entry.stake == 0, "Stake: duplicate validator");
        require(amount >= minimumWeight, "Stake: stake below minimum weight");
        require(amount <= type(uint96).max, "Stake: stake too large");
        // Field by field: a genesis validator's zero start height costs no write.
        entry.depositor = depositor;
        entry.stake = uint96(amount);
        if (startHeight != 0) entry.startHeight = startHeight;
        validatorAddresses.push(auxiliaryAddress);
        emit ValidatorDeposited(auxiliaryAddress, depositor, amount, startHeight);
    }

    function _slice(uint256 start, uint256 end)
        private
        view
        returns (address[] memory addresses, uint256[] memory weights)
    {
        addresses = new address[](end - start);
        weights = new uint256[](end - start);
        for (uint256 i = start; i < end; i++) {
            address validator = validatorAddresses[i];
            addresses[i - start] = validator;
            weights[i - start] = validators[validator].stake;
        }
    }

    /// @dev Checks the allowance first so that a missing approval fails with this contract's
    ///      reason, which names the step the operator skipped, rather than the token's.
    function _pull(address from, uint256 amount) private {
        require(token.allowance(from, address(this)) >= amount, "Stake: allowance too low");
        require(token.transferFrom(from, address(this), amount), "Stake: transfer failed");
    }
}
