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
///         genesis validator set once with `initialize` (which opens K0), and later validators
///         join through `deposit` from the next kernel on. Validators are keyed by their
///         auxiliary address, the key they vote with (contracts/README.md).
/// @dev Stakes are never withdrawn here, so a validator's weight is constant from its start
///      height on and the total weight only grows; that keeps every view O(1).
contract Stake {
    struct Validator {
        address depositor; // origin address the stake was pulled from
        uint256 stake;
        uint256 startHeight;
    }

    EIP20Interface public immutable token;
    address public immutable originCore;
    uint256 public immutable minimumWeight;
    /// @notice The only account allowed to call `initialize` (OriginCore's deployer).
    address public immutable initializer;

    bool public initialized;
    /// @notice Height of the kernel that is open in `OriginCore`.
    uint256 public openHeight;
    mapping(address => Validator) public validators;

    address[] private validatorAddresses;
    /// @dev Total weight for every height up to `openHeight`; later heights add `pendingWeight`.
    mapping(uint256 => uint256) private totalWeightAt;
    address[] private pendingValidators;
    uint256 private pendingWeight;

    event ValidatorDeposited(
        address indexed auxiliaryAddress, address indexed depositor, uint256 stake, uint256 startHeight
    );
    event Initialized(uint256 validatorCount, uint256 totalWeight);
    event HeightAdvanced(uint256 indexed height, uint256 joinedValidators, uint256 totalWeight);

    constructor(address token_, address originCore_, uint256 minimumWeight_, address initializer_) {
        // A zero minimum would let a zero stake register, and a zero stake is how this contract
        // tells "no validator" apart.
        require(minimumWeight_ > 0, "Stake: minimum weight is zero");
        token = EIP20Interface(token_);
        originCore = originCore_;
        minimumWeight = minimumWeight_;
        initializer = initializer_;
    }

    /// @notice Registers the genesis validators, pulls their stakes (each must have approved this
    ///         contract) and opens K0 in `OriginCore` with exactly these validators and stakes.
    function initialize(
        address[] calldata originAddresses,
        address[] calldata auxiliaryAddresses,
        uint256[] calldata stakes
    ) external {
        require(msg.sender == initializer, "Stake: only initializer");
        require(!initialized, "Stake: already initialized");
        uint256 count = auxiliaryAddresses.length;
        require(count > 0, "Stake: no validators");
        require(originAddresses.length == count && stakes.length == count, "Stake: length mismatch");
        initialized = true;

        uint256 total;
        for (uint256 i = 0; i < count; i++) {
            for (uint256 j = 0; j < i; j++) {
                require(originAddresses[j] != originAddresses[i], "Stake: duplicate origin address");
            }
            _register(auxiliaryAddresses[i], originAddresses[i], stakes[i], 0);
            total += stakes[i];
        }
        totalWeightAt[0] = total;
        emit Initialized(count, total);

        for (uint256 i = 0; i < count; i++) {
            _pull(originAddresses[i], stakes[i]);
        }
        OriginCoreKernelOpener(originCore).openKernel(auxiliaryAddresses, stakes);
    }

    /// @notice Joins a new validator, staked by the caller, from the next kernel on: it appears
    ///         in the `updatedValidators` of the kernel that `OriginCore` opens next.
    function deposit(address auxiliaryAddress, uint256 amount) external {
        require(initialized, "Stake: not initialized");
        _register(auxiliaryAddress, msg.sender, amount, openHeight + 1);
        pendingValidators.push(auxiliaryAddress);
        pendingWeight += amount;
        _pull(msg.sender, amount);
    }

    /// @notice Called by `OriginCore` when it commits the meta-block at `openHeight`; returns the
    ///         validators that join with the next kernel and their weights.
    function advanceHeight() external returns (address[] memory updatedValidators, uint256[] memory updatedWeights) {
        require(msg.sender == originCore, "Stake: only origin core");
        updatedValidators = pendingValidators;
        updatedWeights = new uint256[](updatedValidators.length);
        for (uint256 i = 0; i < updatedValidators.length; i++) {
            updatedWeights[i] = validators[updatedValidators[i]].stake;
        }
        uint256 next = openHeight + 1;
        uint256 total = totalWeightAt[openHeight] + pendingWeight;
        totalWeightAt[next] = total;
        openHeight = next;
        delete pendingValidators;
        pendingWeight = 0;
        emit HeightAdvanced(next, updatedValidators.length, total);
    }

    /// @notice Auxiliary addresses of every registered validator, including those that only
    ///         start at a later height (check `weight`).
    function getValidatorAddresses() external view returns (address[] memory) {
        return validatorAddresses;
    }

    /// @notice Validators that deposited while the current kernel was open.
    function getPendingValidators() external view returns (address[] memory) {
        return pendingValidators;
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

    function totalWeightAtHeight(uint256 height) external view returns (uint256) {
        if (height <= openHeight) {
            return totalWeightAt[height];
        }
        return totalWeightAt[openHeight] + pendingWeight;
    }

    function _register(address auxiliaryAddress, address depositor, uint256 amount, uint256 startHeight) private {
        require(auxiliaryAddress != address(0) && depositor != address(0), "Stake: zero address");
        require(validators[auxiliaryAddress].stake == 0, "Stake: duplicate validator");
        require(amount >= minimumWeight, "Stake: stake below minimum weight");
        validators[auxiliaryAddress] = Validator(depositor, amount, startHeight);
        validatorAddresses.push(auxiliaryAddress);
        emit ValidatorDeposited(auxiliaryAddress, depositor, amount, startHeight);
    }

    /// @dev Checks the allowance first so that a missing approval fails with this contract's
    ///      reason, which names the step the operator skipped, rather than the token's.
    function _pull(address from, uint256 amount) private {
        require(token.allowance(from, address(this)) >= amount, "Stake: allowance too low");
        require(token.transferFrom(from, address(this), amount), "Stake: transfer failed");
    }
}
