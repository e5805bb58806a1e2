// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.30;

import {BlockStore} from "./BlockStore.sol";
import {OriginProof} from "./OriginProof.sol";

/// @title OSTPrime
/// @notice The auxiliary chain's base coin, backed 1:1 by OST staked in `OSTGateway` on origin.
///         The whole supply is allocated to this contract's address in the auxiliary genesis;
///         it leaves only when someone proves a gateway stake, and then exactly once per stake
///         and only to the stake's beneficiary. The proofs authenticate themselves, so anyone
///         may submit them.
/// @dev The contract is built into the auxiliary genesis (its constructor runs on a throwaway
///      chain, docs/auxiliary-genesis.md); the genesis gives its address the supply, less the
///      stakes already paid out in the genesis itself. There is no `receive`: base coin only ever
///      flows out.
contract OSTPrime {
    bytes32 public constant STAKE_TYPEHASH =
        keccak256("Stake(address gateway,uint256 amount,address beneficiary,address staker,uint256 nonce)");
    /// @dev `OSTGateway.stakedMessages` is the gateway's first state variable.
    uint256 private constant STAKED_MESSAGES_SLOT = 0;

    /// @notice OSTGateway's address on the origin chain.
    address public immutable ostGateway;
    BlockStore public immutable originBlockStore;

    /// @notice OSTGateway's storage root at each origin height it was proven at.
    mapping(uint256 => bytes32) public gatewayStorageRoot;
    /// @notice Stake message hashes whose base coin has been released.
    mapping(bytes32 => bool) public minted;

    event GatewayProven(uint256 indexed originHeight, bytes32 storageRoot);
    event Minted(
        bytes32 indexed messageHash, address indexed beneficiary, uint256 amount, address staker, uint256 nonce
    );

    /// @param ostGateway_ OSTGateway's address on the origin chain.
    /// @param paidInGenesis Message hashes of gateway stakes whose base coin the genesis already
    ///        allocates to their beneficiary (the deployer's stake that pays the initial proposer's
    ///        gas): they count as minted from block 0, so they can never be paid twice.
    constructor(address ostGateway_, address originBlockStore_, bytes32[] memory paidInGenesis) {
        require(ostGateway_ != address(0) && originBlockStore_ != address(0), "OSTPrime: zero address");
        ostGateway = ostGateway_;
        originBlockStore = BlockStore(originBlockStore_);
        for (uint256 i = 0; i < paidInGenesis.length; i++) {
            minted[paidInGenesis[i]] = true;
        }
    }

    /// @notice Proves OSTGateway's account at a finalised origin height (as `eth_getProof`
    ///         returns it) and caches its storage root for that height.
    function proveGateway(bytes calldata accountRlp, bytes[] calldata accountProof, uint256 originHeight) external {
        bytes32 stateRoot = originBlockStore.stateRoot(originHeight);
        (bool proven, bytes32 storageRoot) =
            OriginProof.accountStorageRoot(stateRoot, ostGateway, accountRlp, accountProof);
        require(proven, "OSTPrime: invalid account proof");
        gatewayStorageRoot[originHeight] = storageRoot;
        emit GatewayProven(originHeight, storageRoot);
    }

    /// @notice Releases `amount` base coin to `beneficiary` for the gateway stake these values
    ///         describe, given a storage proof that the gateway recorded it by `originHeight`.
    function mint(
        uint256 amount,
        address beneficiary,
        address staker,
        uint256 nonce,
        bytes[] calldata storageProof,
        uint256 originHeight
    ) external {
        bytes32 messageHash = stakeMessageHash(amount, beneficiary, staker, nonce);
        require(!minted[messageHash], "OSTPrime: already minted");
        bytes32 storageRoot = gatewayStorageRoot[originHeight];
        require(storageRoot != bytes32(0), "OSTPrime: gateway not proven at height");
        bytes32 slot = keccak256(abi.encode(messageHash, STAKED_MESSAGES_SLOT));
        require(
            OriginProof.holdsWord(storageRoot, slot, bytes32(uint256(1)), storageProof),
            "OSTPrime: stake not proven"
        );

        // Marked before paying so a beneficiary contract cannot re-enter for the same stake.
        minted[messageHash] = true;
        (bool paid,) = beneficiary.call{value: amount}("");
        require(paid, "OSTPrime: transfer failed");
        emit Minted(messageHash, beneficiary, amount, staker, nonce);
    }

    /// @notice The message hash `OSTGateway` records for a stake (contracts/README.md).
    function stakeMessageHash(uint256 amount, address beneficiary, address staker, uint256 nonce)
        public
        view
        returns (bytes32)
    {
        return keccak256(abi.encode(STAKE_TYPEHASH, ostGateway, amount, beneficiary, staker, nonce));
    }
}
