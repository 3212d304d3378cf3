// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

// SDRt: the marketplace's settlement token, 1 SDRt = 1 IMF SDR = 1,000,000
// units (decimals 6). ERC-20 surface; only the issuer (the deployer, the
// ledger admin) mints. Reverts carry "RSP:<code>" like the Marketplace so the
// C++ side maps every refusal the same way (docs/ledger.md).
//
// Permissioned: the token moves only between participants the Marketplace
// registered, and into the Marketplace only through its own escrow pull
// (transferFrom in `request`), so no token can be sent where the marketplace
// rules and statements do not see it, nor locked in a contract.
interface IRegistry {
    function isRegistered(address who) external view returns (bool);
    function paused() external view returns (bool);
}

contract SDRt {
    string public constant name = "SDR token";
    string public constant symbol = "SDRt";
    uint8 public constant decimals = 6;

    // The admin's current key: it follows the admin's key rotation (rotate).
    address public issuer;
    // The Marketplace (the participant registry and the escrow holder); set
    // once by the issuer right after both contracts are deployed.
    address public registry;
    uint256 public totalSupply;
    mapping(address => uint256) public balanceOf;
    mapping(address => mapping(address => uint256)) public allowance;

    event Transfer(address indexed from, address indexed to, uint256 value);
    event Approval(address indexed owner, address indexed spender, uint256 value);

    constructor() {
        issuer = msg.sender;
    }

    function setRegistry(address marketplace) external {
        require(msg.sender == issuer, "RSP:not-issuer");
        require(registry == address(0) && marketplace != address(0), "RSP:forbidden");
        registry = marketplace;
    }

    // New money: a Transfer from the zero address, as ERC-20 readers expect.
    function mint(address to, uint256 amount) external {
        require(msg.sender == issuer, "RSP:not-issuer");
        require(registry == address(0) || !IRegistry(registry).paused(), "RSP:paused");
        require(registry != address(0) && IRegistry(registry).isRegistered(to), "RSP:not-registered");
        // Amounts are int64 on the C++ side: anything above cannot be read back.
        require(to != address(0) && amount > 0 && amount < 2 ** 63, "RSP:bad-terms");
        require(totalSupply + amount < 2 ** 63, "RSP:bad-terms");
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    // A participant's key rotation (Marketplace.rotateKey, the only caller):
    // its whole balance moves to the new key, and the issuer role too when
    // the admin rotates. Only the registry can call it, so SDRt stays
    // permissioned: no one moves tokens this way by hand.
    function rotate(address from, address to) external {
        require(msg.sender == registry && registry != address(0), "RSP:forbidden");
        uint256 value = balanceOf[from];
        if (from == issuer) issuer = to;
        if (value == 0) return;
        balanceOf[from] = 0;
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }

    function transfer(address to, uint256 value) external returns (bool) {
        _move(msg.sender, to, value);
        return true;
    }

    function approve(address spender, uint256 value) external returns (bool) {
        allowance[msg.sender][spender] = value;
        emit Approval(msg.sender, spender, value);
        return true;
    }

    function transferFrom(address from, address to, uint256 value) external returns (bool) {
        uint256 allowed = allowance[from][msg.sender];
        require(allowed >= value, "RSP:forbidden");
        if (allowed != type(uint256).max) allowance[from][msg.sender] = allowed - value;
        _move(from, to, value);
        return true;
    }

    function _move(address from, address to, uint256 value) private {
        require(to != address(0), "RSP:bad-terms");
        if (to == registry) {
            // Into escrow only by the Marketplace's own pull.
            require(msg.sender == registry, "RSP:forbidden");
        } else if (from != registry) {
            require(IRegistry(registry).isRegistered(from) && IRegistry(registry).isRegistered(to), "RSP:not-registered");
        }
        require(balanceOf[from] >= value, "RSP:insufficient-funds");
        unchecked {
            balanceOf[from] -= value;
        }
        balanceOf[to] += value;
        emit Transfer(from, to, value);
    }
}
