// SPDX-License-Identifier: UNLICENSED
pragma solidity 0.8.30;

// The marketplace rules of docs/ledger.md ("Marketplace rules"), enforced by
// the chain itself: every write checks its rules here and reverts with
// "RSP:<code>" (the codes of that table), so no participant can skip a rule
// by sending transactions directly.
//
// Storage holds only what the rules and the cheap views need; the large or
// descriptive fields (seal keys, sealed targets and profiles, coverage,
// subscriber) travel in the events, which readers fetch with eth_getLogs at
// the block number kept in storage. Every event carries `time`
// (block.timestamp) so readers need no block lookups.
//
// Participants are numbered (1, 2, ... in registration order) and every
// record names them by number, not by key: a participant that rotates its
// key (rotateKey) keeps its Offers, Requests, escrow and arbiter with no
// per-record rewrite; only keyOf/numberOf change (docs/ledger.md, "Key
// rotation").
//
// Numbers arrive as uint256 but mirror C++ int64 fields: values >= 2^63 are
// what a negative int64 looks like once sign-extended, so they are refused
// as bad terms wherever a rule needs a non-negative number.

interface ISDRt {
    function balanceOf(address who) external view returns (uint256);
    function rotate(address from, address to) external;
    function allowance(address owner, address spender) external view returns (uint256);
    function transfer(address to, uint256 value) external returns (bool);
    function transferFrom(address from, address to, uint256 value) external returns (bool);
}

contract Marketplace {
    uint8 public constant ROLE_ADMIN = 0;
    uint8 public constant ROLE_VISITED_OPERATOR = 1;
    uint8 public constant ROLE_HOME_OPERATOR = 2;
    uint8 public constant ROLE_SERVICE_PROVIDER = 3;
    uint8 public constant ROLE_ARBITER = 4;

    // None marks a request id never used (mapping default). Disputed: the
    // escrow is frozen until the arbiter resolves (then Closed).
    enum State { None, Open, Accepted, Active, Closed, Disputed }

    uint256 private constant MAX_INT64 = 2 ** 63 - 1;
    // C++ kAnswerSeconds and kPeriodSlackSeconds (ledger/include/rsp/ledger/market.hpp).
    uint64 private constant ANSWER_SECONDS = 1 days;
    uint256 private constant PERIOD_SLACK_SECONDS = 300;
    // C++ kDisputeSeconds: how long after the Accept the home may dispute it.
    uint64 private constant DISPUTE_SECONDS = 1 days;

    struct Participant {
        string id;
        uint8 role;
        bool registered;      // false once revoked
        uint32 arbiter;       // number of the arbiter this participant accepts for disputes (0: none)
    }

    // Indices into publishOffer's `terms` (and the OfferPublished event).
    uint256 private constant T_DATA_MB = 0;
    uint256 private constant T_VOICE_MINUTES = 1;
    uint256 private constant T_SMS = 2;
    uint256 private constant T_PER_MB = 3;
    uint256 private constant T_PER_MINUTE = 4;
    uint256 private constant T_PER_SMS = 5;
    uint256 private constant T_PRICE = 6;
    uint256 private constant T_TERM_SECONDS = 7;
    uint256 private constant T_VALID_UNTIL = 8;
    uint256 private constant T_STOCK = 9;
    // The Offer's kind (C++ OfferKind): 0 mobile, 1 service (an SP code for
    // a profile; its activation is the redemption, at a UN/LOCODE or none).
    uint256 private constant T_KIND = 10;
    uint8 private constant KIND_SERVICE = 1;

    struct Offer {
        uint32 provider;      // participant number; zero: no such offer
        uint64 validUntil;
        uint64 price;
        uint64 termSeconds;
        uint64 stock;
        uint64 sold;
        uint64 perMb;         // tariff: usage charges need it
        uint64 perMinute;
        uint64 perSms;
        uint64 blockNumber;   // where OfferPublished is
        uint64 allowData;     // allowance: usage reports may not exceed it in total
        uint64 allowMinutes;
        uint64 allowSms;
        uint8 kind;           // T_KIND (same slot as allowSms)
        bool withdrawn;       // withdrawOffer: no more Requests
    }

    struct Request {
        uint32 home;          // participant numbers
        State state;
        uint64 usageReports;
        uint32 provider;
        uint64 expiresAt;
        bytes32 offerId;
        uint64 escrow;
        uint64 charged;
        uint64 requestedAt;
        uint64 activatedAt;
        uint64 blockNumber;   // where RequestMade is
        uint64 acceptBlock;   // where Accepted is (0 before accept)
        bytes6 activationPlmn;
        uint64 answerBy;      // requestedAt + min(term, ANSWER_SECONDS)
        uint64 usedData;      // sums of the usage reports
        uint64 usedMinutes;
        uint64 usedSms;
        uint64 periodEnd;     // end of the last reported period: the next starts at or after it
        uint64 acceptedAt;    // 0 before the Accept
        uint32 arbiter;       // set by a dispute: who resolves it
        uint64 held;          // usage charged before the dispute window ended, not paid yet (same slot as arbiter)
    }

    // A usage record a Request was charged for: what it said (the first 24
    // bytes of keccak256(abi.encode(used, periodStart, periodEnd))) and where
    // its UsageReported event is. One slot.
    struct UsageRecord {
        bytes24 content;
        uint64 blockNumber;   // 0: no such record
    }

    ISDRt public immutable token;
    // The admin's current key (it moves with the admin's rotateKey; so does SDRt's issuer).
    address public admin;
    uint256 public immutable deployedAt;  // first block worth scanning for logs

    uint32 public participantCount;
    mapping(uint32 => Participant) private participants;
    mapping(address => uint32) public numberOf;     // current keys only (0: none)
    mapping(uint32 => address) public keyOf;        // the participant's current key
    mapping(string => uint32) private numberOfId;
    // Keys rotated out, with the participant they were: a key is never used
    // again (register and rotateKey refuse it), and readers still name the
    // author of events and transfers a rotated-out key made.
    mapping(address => uint32) private formerNumberOf;
    mapping(bytes32 => Offer) private offers;
    bytes32[] private offerIds;
    mapping(bytes32 => Request) private requests;
    // requestId => recordId => the record (ids are unique per Request).
    mapping(bytes32 => mapping(bytes32 => UsageRecord)) private usageRecords;
    // Set by the admin: market writes that create value or service are refused.
    bool public paused;
    // Sum of escrow - charged over the home operator's requests not Closed, by participant number.
    mapping(uint32 => uint256) public escrowedOf;

    event Registered(uint32 indexed number, address indexed key, string id, uint8 role);
    event Revoked(uint32 indexed number, uint32 indexed by, uint256 time);
    event KeyRotated(uint32 indexed number, address indexed oldKey, address indexed newKey, uint256 time);
    event PauseSet(bool paused, uint256 time);
    event OfferPublished(bytes32 indexed offerId, uint32 indexed provider, string service, string coverage,
                         uint256[11] terms, bytes sealKey, uint256 time);
    event OfferWithdrawn(bytes32 indexed offerId, uint32 indexed provider, uint256 time);
    // The terms future Requests get; the Offer's storage holds them (readers read them there).
    event OfferEdited(bytes32 indexed offerId, uint32 indexed provider, uint256 price, uint256 stock,
                      uint256 validUntil, uint256 time);
    event RequestMade(bytes32 indexed requestId, bytes32 indexed offerId, uint32 indexed home, uint32 provider,
                      string subscriber, bytes sealedTarget, uint256 escrow, bytes replyKey, uint256 expiresAt,
                      uint256 time);
    event Accepted(bytes32 indexed requestId, uint32 indexed provider, uint32 home, bytes32 packageHash,
                   bytes sealedProfile, uint256 time);
    event Activated(bytes32 indexed requestId, uint32 indexed provider, uint32 home, string plmn, uint256 time);
    event UsageReported(bytes32 indexed requestId, uint32 indexed provider, uint32 home, bytes32 recordId,
                        uint256 reportNo, uint256[3] used, uint256 periodStart, uint256 periodEnd, uint256 charge,
                        uint256 time);
    event Refunded(bytes32 indexed requestId, uint32 indexed by, uint32 home, uint256 amount, uint256 time);
    // Held usage charges paid to the provider when the Request is refunded
    // after the dispute window (just before its Refunded).
    event Released(bytes32 indexed requestId, uint32 indexed by, uint32 home, uint32 provider, uint256 amount,
                   uint256 time);
    event Disputed(bytes32 indexed requestId, uint32 indexed home, uint32 provider, uint32 arbiter, string reason,
                   uint256 time);
    // `to` receives `amount` (what was left in escrow): the home or the provider.
    event Resolved(bytes32 indexed requestId, uint32 indexed arbiter, uint32 home, uint32 to, uint256 amount,
                   uint256 time);

    constructor(address sdrt) {
        token = ISDRt(sdrt);
        admin = msg.sender;
        deployedAt = block.number;
    }

    // ---- registry ----

    // Role 0 (admin) is only for the admin's own address, so the issuer has a
    // participant id like everyone else. `arbiter`: a registered arbiter the
    // participant accepts for disputes, or 0. A key used before (by any
    // participant, now or rotated out) is refused like a taken id.
    function register(address who, string calldata id, uint8 role, address arbiter) external {
        require(msg.sender == admin, "RSP:forbidden");
        bytes calldata raw = bytes(id);
        require(raw.length >= 1 && raw.length <= 128, "RSP:bad-id");
        require(role <= ROLE_ARBITER && (role != ROLE_ADMIN || who == admin) && who != address(0),
                "RSP:bad-terms");
        require(numberOf[who] == 0 && formerNumberOf[who] == 0 && numberOfId[id] == 0, "RSP:bad-participant");
        uint32 a = 0;
        if (arbiter != address(0)) {
            a = numberOf[arbiter];
            require(a != 0 && participants[a].registered && participants[a].role == ROLE_ARBITER,
                    "RSP:bad-participant");
        }
        uint32 n = ++participantCount;
        participants[n] = Participant(id, role, true, a);
        numberOf[who] = n;
        keyOf[n] = who;
        numberOfId[id] = n;
        emit Registered(n, who, id, role);
    }

    // A participant's key revoked for good, by itself or the admin (not the
    // admin's): it can no longer write. Its id stays taken.
    function revoke(address who) external {
        uint32 me = _me();
        uint32 n = numberOf[who];
        require(n != 0 && participants[n].registered, "RSP:not-registered");
        require(n == me || msg.sender == admin, "RSP:forbidden");
        require(who != admin, "RSP:bad-terms");
        participants[n].registered = false;
        emit Revoked(n, me, block.timestamp);
    }

    // The participant `id`, writing with its current key, moves to `newKey`:
    // from this transaction on the old key writes nothing (not-registered)
    // and the new one writes as the same participant, with the same
    // records, escrow and arbiter (all keyed by number) and the same SDRt
    // balance (moved by SDRt.rotate, which also moves the issuer role when
    // the admin rotates). A key is never reused: one registered or rotated
    // out before, revoked or not, is refused (bad-participant). Not refused
    // while paused: a pause is the admin's answer to a leaked key, and
    // rotating it away is what the owner must still be able to do.
    function rotateKey(string calldata id, address newKey) external {
        uint32 n = _me();
        require(numberOfId[id] == n, "RSP:forbidden");
        require(newKey != address(0) && newKey != address(this) && newKey != address(token), "RSP:bad-terms");
        require(numberOf[newKey] == 0 && formerNumberOf[newKey] == 0, "RSP:bad-participant");
        numberOf[msg.sender] = 0;
        formerNumberOf[msg.sender] = n;
        numberOf[newKey] = n;
        keyOf[n] = newKey;
        if (msg.sender == admin) admin = newKey;
        token.rotate(msg.sender, newKey);
        emit KeyRotated(n, msg.sender, newKey, block.timestamp);
    }

    // While paused: mint (SDRt asks), offer, editOffer, request, accept,
    // activation and usage are refused; refund, dispute, resolve, revoke,
    // rotateKey and withdrawOffer are not, so no value is locked by a pause.
    function setPaused(bool p) external {
        _me();
        require(msg.sender == admin, "RSP:forbidden");
        paused = p;
        emit PauseSet(p, block.timestamp);
    }

    // A current key of a participant not revoked (SDRt asks it for every move).
    function isRegistered(address who) external view returns (bool) {
        uint32 n = numberOf[who];
        return n != 0 && participants[n].registered;
    }

    // The participant a key is or was (a rotated-out key: registered false).
    function participantOf(address who) external view returns (string memory id, uint8 role, bool registered) {
        uint32 n = numberOf[who];
        bool current = n != 0;
        if (!current) n = formerNumberOf[who];
        Participant storage p = participants[n];
        return (p.id, p.role, current && p.registered);
    }

    // Participant `number` (readers name the parties of events and records by it).
    function participantAt(uint32 number) external view returns (string memory id, uint8 role, bool registered,
                                                                  address key) {
        Participant storage p = participants[number];
        return (p.id, p.role, p.registered, keyOf[number]);
    }

    function numberOfParticipant(string calldata id) external view returns (uint32) {
        return numberOfId[id];
    }

    // The current key of participant `id` (zero: no such participant).
    function addressOf(string calldata id) external view returns (address) {
        return keyOf[numberOfId[id]];
    }

    // ---- writes ----

    function publishOffer(bytes32 offerId, string calldata service, string calldata coverage,
                          uint256[11] calldata terms, bytes calldata sealKey) external {
        (uint32 me, uint8 role) = _activeRole();
        require(role == ROLE_VISITED_OPERATOR || role == ROLE_SERVICE_PROVIDER, "RSP:wrong-role");
        require(_validId(offerId), "RSP:bad-id");
        require(offers[offerId].provider == 0, "RSP:duplicate-offer");
        for (uint256 i = 0; i < 10; ++i) require(terms[i] <= MAX_INT64, "RSP:bad-terms");
        require(terms[T_KIND] <= KIND_SERVICE && terms[T_STOCK] > 0 && terms[T_PRICE] > 0 && terms[T_TERM_SECONDS] > 0 &&
                terms[T_VALID_UNTIL] > block.timestamp, "RSP:bad-terms");
        // At most 10 years (C++ kMaxTermSeconds): expiry stays inside int64 on both backends.
        require(terms[T_TERM_SECONDS] <= 10 * 365 days, "RSP:bad-terms");
        uint256 serviceLength = bytes(service).length;
        require(serviceLength >= 1 && serviceLength <= 32, "RSP:bad-terms");
        require(_validCoverage(bytes(coverage)), "RSP:bad-terms");
        require(_isPoint(sealKey), "RSP:bad-terms");

        offers[offerId] = Offer({
            provider: me,
            validUntil: uint64(terms[T_VALID_UNTIL]),
            price: uint64(terms[T_PRICE]),
            termSeconds: uint64(terms[T_TERM_SECONDS]),
            stock: uint64(terms[T_STOCK]),
            sold: 0,
            perMb: uint64(terms[T_PER_MB]),
            perMinute: uint64(terms[T_PER_MINUTE]),
            perSms: uint64(terms[T_PER_SMS]),
            blockNumber: uint64(block.number),
            allowData: uint64(terms[T_DATA_MB]),
            allowMinutes: uint64(terms[T_VOICE_MINUTES]),
            allowSms: uint64(terms[T_SMS]),
            kind: uint8(terms[T_KIND]),
            withdrawn: false
        });
        offerIds.push(offerId);
        emit OfferPublished(offerId, me, service, coverage, terms, sealKey, block.timestamp);
    }

    // The provider withdraws its Offer: no Requests after it; the ones made
    // before go on. Not refused while paused (it creates nothing).
    function withdrawOffer(bytes32 offerId) external {
        Offer storage o = _providersOffer(offerId, _me());
        o.withdrawn = true;
        emit OfferWithdrawn(offerId, o.provider, block.timestamp);
    }

    // New price, stock and validUntil for future Requests: a Request keeps
    // the escrow, expiry and answer deadline it was made with; tariff,
    // allowance and term (which usage reads from the Offer) do not change.
    function editOffer(bytes32 offerId, uint256 price, uint256 stock, uint256 validUntil) external {
        (uint32 me, ) = _activeRole();
        Offer storage o = _providersOffer(offerId, me);
        require(price > 0 && price <= MAX_INT64 && stock > 0 && stock <= MAX_INT64 && stock >= o.sold &&
                validUntil > block.timestamp && validUntil <= MAX_INT64, "RSP:bad-terms");
        o.price = uint64(price);
        o.stock = uint64(stock);
        o.validUntil = uint64(validUntil);
        emit OfferEdited(offerId, me, price, stock, validUntil, block.timestamp);
    }

    // The home operator approves exactly `escrow` to this contract first;
    // the escrow is pulled here and held by the contract until usage/refund.
    function request(bytes32 requestId, bytes32 offerId, string calldata subscriber, bytes calldata sealedTarget,
                     uint256 escrow, bytes calldata replyKey) external {
        _activeHome();
        require(_validId(requestId), "RSP:bad-id");
        require(requests[requestId].state == State.None, "RSP:duplicate-request");
        Offer storage o = offers[offerId];
        require(o.provider != 0, "RSP:unknown-offer");
        require(!o.withdrawn, "RSP:offer-withdrawn");
        require(block.timestamp < o.validUntil, "RSP:offer-expired");
        require(o.sold < o.stock, "RSP:out-of-stock");
        require(escrow == o.price, "RSP:escrow-mismatch");
        require(token.balanceOf(msg.sender) >= escrow && token.allowance(msg.sender, address(this)) >= escrow,
                "RSP:insufficient-funds");
        uint256 subscriberLength = bytes(subscriber).length;
        require(subscriberLength >= 1 && subscriberLength <= 64 && _isPoint(replyKey) && sealedTarget.length > 0,
                "RSP:bad-terms");

        o.sold += 1;
        uint64 expiresAt = uint64(block.timestamp) + o.termSeconds;
        Request storage r = requests[requestId];
        r.home = numberOf[msg.sender];  // (not kept in a local: the stack is full here)
        r.state = State.Open;
        r.provider = o.provider;
        r.expiresAt = expiresAt;
        r.offerId = offerId;
        r.escrow = o.price;
        r.requestedAt = uint64(block.timestamp);
        r.answerBy = uint64(block.timestamp) + (o.termSeconds < ANSWER_SECONDS ? o.termSeconds : ANSWER_SECONDS);
        r.blockNumber = uint64(block.number);
        escrowedOf[r.home] += escrow;
        require(token.transferFrom(msg.sender, address(this), escrow), "RSP:insufficient-funds");
        emit RequestMade(requestId, offerId, r.home, o.provider, subscriber, sealedTarget, escrow, replyKey,
                         expiresAt, block.timestamp);
    }

    function accept(bytes32 requestId, bytes calldata sealedProfile, bytes calldata packageHash) external {
        (Request storage r, uint32 me) = _providersRequest(requestId);
        require(r.state == State.Open, "RSP:wrong-state");
        require(block.timestamp < r.expiresAt, "RSP:request-expired");
        require(block.timestamp < r.answerBy, "RSP:answer-late");
        require(packageHash.length == 32, "RSP:bad-hash");
        require(sealedProfile.length > 0, "RSP:bad-terms");
        r.state = State.Accepted;
        r.acceptBlock = uint64(block.number);
        r.acceptedAt = uint64(block.timestamp);
        emit Accepted(requestId, me, r.home, bytes32(packageHash), sealedProfile, block.timestamp);
    }

    function activate(bytes32 requestId, string calldata plmn) external {
        (Request storage r, uint32 me) = _providersRequest(requestId);
        require(r.state != State.Disputed, "RSP:disputed");
        require(r.state == State.Accepted, "RSP:wrong-state");
        require(block.timestamp < r.expiresAt, "RSP:request-expired");
        bytes calldata p = bytes(plmn);
        // A service Offer's activation is its redemption: at a UN/LOCODE, or no place.
        require(offers[r.offerId].kind == KIND_SERVICE ? p.length == 0 || _isLocode(p) : _isPlmn(p, 0, p.length),
                "RSP:bad-terms");
        r.state = State.Active;
        r.activatedAt = uint64(block.timestamp);
        r.activationPlmn = bytes6(bytes(plmn));
        emit Activated(requestId, me, r.home, plmn, block.timestamp);
    }

    // One usage report as reportUsageBatch takes it: reportUsage's arguments.
    struct UsageReportIn {
        bytes32 requestId;
        bytes32 recordId;
        uint256 reportNo;
        uint256[3] used;
        uint256 periodStart;
        uint256 periodEnd;
    }

    // used = [data_mb, voice_minutes, sms]; the charge (used . tariff) moves
    // from escrow to the provider (held during the dispute window). A record
    // id the Request already has is not applied again: "already-applied"
    // with the same content (the client answers with the first receipt),
    // "record-conflict" with other content.
    function reportUsage(bytes32 requestId, bytes32 recordId, uint256 reportNo, uint256[3] calldata used,
                         uint256 periodStart, uint256 periodEnd) external {
        (uint32 me, ) = _activeRole();
        (string memory refused, uint256 pay) = _reportUsage(me, requestId, recordId, reportNo, used, periodStart,
                                                            periodEnd);
        if (bytes(refused).length != 0) revert(string.concat("RSP:", refused));
        if (pay > 0) require(token.transfer(msg.sender, pay), "RSP:insufficient-funds");  // the provider's current key
    }

    // Several usage reports, for one Request or several, in one transaction
    // (docs/ledger.md, "Usage reports in batches"): each is judged by exactly
    // reportUsage's rules, in order (a report may follow one earlier in the
    // batch), and makes the same UsageReported event. All or nothing: the
    // first report refused reverts the whole batch with "RSP:<code>@<index>"
    // (index from 0 in `reports`). A report whose record is already applied
    // with the same content is skipped (no event), as reportUsage answers it.
    // What the reports pay the provider goes in one SDRt transfer (their sum).
    function reportUsageBatch(UsageReportIn[] calldata reports) external {
        (uint32 me, ) = _activeRole();
        require(reports.length > 0, "RSP:bad-terms");
        uint256 total = 0;
        for (uint256 i = 0; i < reports.length; ++i) {
            UsageReportIn calldata u = reports[i];
            (string memory refused, uint256 pay) = _reportUsage(me, u.requestId, u.recordId, u.reportNo, u.used,
                                                                u.periodStart, u.periodEnd);
            if (bytes(refused).length != 0) {
                if (keccak256(bytes(refused)) == keccak256("already-applied")) continue;
                revert(string.concat("RSP:", refused, "@", _decimal(i)));
            }
            total += pay;
        }
        if (total > 0) require(token.transfer(msg.sender, total), "RSP:insufficient-funds");
    }

    // The rules and effects of one usage report by participant `me` (its
    // role and the pause checked by the caller). Returns the code of the
    // first rule broken (nothing written; the caller reverts or, for
    // "already-applied", skips), or "" and what the report pays the provider
    // now, which the caller transfers.
    function _reportUsage(uint32 me, bytes32 requestId, bytes32 recordId, uint256 reportNo,
                          uint256[3] calldata used, uint256 periodStart, uint256 periodEnd)
        private returns (string memory, uint256 pay) {
        Request storage r = requests[requestId];
        if (r.state == State.None) return ("unknown-request", 0);
        if (r.provider != me) return ("not-provider", 0);
        if (!_validId(recordId)) return ("bad-id", 0);
        // What the record says: the first 24 bytes of its keccak256, stored with it.
        bytes24 content = bytes24(keccak256(abi.encode(used, periodStart, periodEnd)));
        {
            UsageRecord storage seen = usageRecords[requestId][recordId];
            if (seen.blockNumber != 0) return (seen.content == content ? "already-applied" : "record-conflict", 0);
        }
        if (r.state == State.Disputed) return ("disputed", 0);
        if (r.state != State.Active) return ("wrong-state", 0);
        if (reportNo != uint256(r.usageReports) + 1) return ("report-out-of-order", 0);
        if (block.timestamp >= r.expiresAt) return ("request-expired", 0);
        if (used[0] > MAX_INT64 || used[1] > MAX_INT64 || used[2] > MAX_INT64) return ("bad-terms", 0);
        if (!(periodStart <= MAX_INT64 && periodStart <= periodEnd &&
              periodStart + PERIOD_SLACK_SECONDS >= r.activatedAt && periodEnd >= r.activatedAt &&
              periodEnd <= block.timestamp + PERIOD_SLACK_SECONDS)) return ("bad-period", 0);
        // Periods are [start, end): the next starts at or after the last end.
        if (periodStart < r.periodEnd) return ("period-overlap", 0);
        Offer storage o = offers[r.offerId];
        // Each product < 2^126: no overflow before the escrow comparison.
        uint256 charge = used[0] * o.perMb + used[1] * o.perMinute + used[2] * o.perSms;
        if (uint256(r.charged) + charge > r.escrow) return ("beyond-escrow", 0);
        if (r.usedData + used[0] > o.allowData || r.usedMinutes + used[1] > o.allowMinutes ||
            r.usedSms + used[2] > o.allowSms) return ("beyond-allowance", 0);
        r.usedData += uint64(used[0]);
        r.usedMinutes += uint64(used[1]);
        r.usedSms += uint64(used[2]);
        r.usageReports += 1;
        r.periodEnd = uint64(periodEnd);
        r.charged += uint64(charge);
        usageRecords[requestId][recordId] = UsageRecord(content, uint64(block.number));
        // Paid only once the dispute window has passed: a junk Accept cannot
        // be activated and charged whole before the home can dispute it.
        if (block.timestamp < uint256(r.acceptedAt) + DISPUTE_SECONDS) {
            r.held += uint64(charge);
        } else {
            pay = uint256(r.held) + charge;
            r.held = 0;
        }
        escrowedOf[r.home] -= pay;
        // The event's charge is what this report paid the provider (0 while held).
        emit UsageReported(requestId, me, r.home, recordId, reportNo, used, periodStart, periodEnd, pay,
                           block.timestamp);
        return ("", pay);
    }

    function refund(bytes32 requestId) external {
        uint32 me = _me();
        Request storage r = requests[requestId];
        require(r.state != State.None, "RSP:unknown-request");
        require(me == r.provider || me == r.home, "RSP:forbidden");
        require(r.state != State.Disputed, "RSP:disputed");
        // The home: after the term; or an unanswered Request after its answer deadline.
        if (me != r.provider)
            require(block.timestamp >= r.expiresAt || (r.state == State.Open && block.timestamp >= r.answerBy),
                    "RSP:not-expired");
        require(r.state != State.Closed, "RSP:wrong-state");
        uint256 held = r.held;
        require(held == 0 || block.timestamp >= uint256(r.acceptedAt) + DISPUTE_SECONDS, "RSP:held");
        if (held > 0) {  // the window has passed undisputed: the held charges are the provider's
            r.held = 0;
            escrowedOf[r.home] -= held;
            require(token.transfer(keyOf[r.provider], held), "RSP:insufficient-funds");
            emit Released(requestId, me, r.home, r.provider, held, block.timestamp);
        }
        uint256 amount = uint256(r.escrow) - r.charged;
        // Closed before any service: the unit of stock goes back to the Offer.
        if (r.state == State.Open || r.state == State.Accepted) offers[r.offerId].sold -= 1;
        r.state = State.Closed;
        escrowedOf[r.home] -= amount;
        if (amount > 0) require(token.transfer(keyOf[r.home], amount), "RSP:insufficient-funds");
        emit Refunded(requestId, me, r.home, amount, block.timestamp);
    }

    // The home operator disputes the Accept within DISPUTE_SECONDS after it
    // (the package does not open, or its hash does not match): the escrow is
    // frozen until the arbiter both parties named at registration resolves.
    function dispute(bytes32 requestId, string calldata reason) external {
        uint32 me = _me();
        Request storage r = requests[requestId];
        require(r.state != State.None, "RSP:unknown-request");
        require(me == r.home, "RSP:forbidden");
        require(r.state == State.Accepted || r.state == State.Active, "RSP:wrong-state");
        require(block.timestamp < uint256(r.acceptedAt) + DISPUTE_SECONDS, "RSP:dispute-late");
        uint32 arbiter = participants[r.home].arbiter;
        require(arbiter != 0 && arbiter == participants[r.provider].arbiter, "RSP:no-arbiter");
        require(bytes(reason).length >= 1 && bytes(reason).length <= 64, "RSP:bad-terms");
        r.state = State.Disputed;
        r.arbiter = arbiter;
        emit Disputed(requestId, me, r.provider, arbiter, reason, block.timestamp);
    }

    // The arbiter settles a disputed Request: what is left in escrow goes to
    // the home operator (refundHome) or to the provider; the Request closes.
    function resolve(bytes32 requestId, bool refundHome) external {
        uint32 me = _me();
        Request storage r = requests[requestId];
        require(r.state != State.None, "RSP:unknown-request");
        require(r.state == State.Disputed, "RSP:wrong-state");
        require(me == r.arbiter, "RSP:not-arbiter");
        // Everything not paid to the provider: the escrow left and the held charges.
        uint256 rest = uint256(r.escrow) - r.charged + r.held;
        // Refunded without ever being activated: no service, the unit goes back.
        if (refundHome && r.activatedAt == 0) offers[r.offerId].sold -= 1;
        r.state = State.Closed;
        if (refundHome) r.charged -= r.held;  // the held charges are annulled
        else r.charged = r.escrow;
        r.held = 0;
        escrowedOf[r.home] -= rest;
        uint32 to = refundHome ? r.home : r.provider;
        if (rest > 0) require(token.transfer(keyOf[to], rest), "RSP:insufficient-funds");
        emit Resolved(requestId, me, r.home, to, rest, block.timestamp);
    }

    // ---- views ----

    function offerCount() external view returns (uint256) {
        return offerIds.length;
    }

    function offerIdAt(uint256 index) external view returns (bytes32) {
        return offerIds[index];
    }

    // provider == 0 when there is no such offer.
    function getOffer(bytes32 offerId) external view returns (Offer memory) {
        return offers[offerId];
    }

    // state == None when there is no such request.
    function getRequest(bytes32 requestId) external view returns (Request memory) {
        return requests[requestId];
    }

    // blockNumber == 0 when the Request has no such usage record.
    function usageRecord(bytes32 requestId, bytes32 recordId) external view returns (UsageRecord memory) {
        return usageRecords[requestId][recordId];
    }

    function balances(address who) external view returns (uint256 available, uint256 escrowed) {
        return (token.balanceOf(who), escrowedOf[numberOf[who]]);
    }

    // By participant id: its current key's SDRt and its escrow (zeros: no such participant).
    function balancesOf(string calldata id) external view returns (uint256 available, uint256 escrowed) {
        uint32 n = numberOfId[id];
        if (n == 0) return (0, 0);
        return (token.balanceOf(keyOf[n]), escrowedOf[n]);
    }

    // ---- rules shared by several writes ----

    // The caller's participant number; refused unless it is the current key
    // of a participant not revoked (participants[0] is never registered).
    function _me() private view returns (uint32 n) {
        n = numberOf[msg.sender];
        require(participants[n].registered, "RSP:not-registered");
    }

    // The caller's number and role, for the writes a pause refuses.
    function _activeRole() private view returns (uint32 n, uint8 role) {
        n = numberOf[msg.sender];
        Participant storage p = participants[n];
        require(p.registered, "RSP:not-registered");
        role = p.role;
        require(!paused, "RSP:paused");
    }

    // request: a home operator's, refused while paused.
    function _activeHome() private view returns (uint32 n) {
        uint8 role;
        (n, role) = _activeRole();
        require(role == ROLE_HOME_OPERATOR, "RSP:wrong-role");
    }

    // accept, activate: both refused while paused.
    function _providersRequest(bytes32 requestId) private view returns (Request storage r, uint32 me) {
        (me, ) = _activeRole();
        r = requests[requestId];
        require(r.state != State.None, "RSP:unknown-request");
        require(r.provider == me, "RSP:not-provider");
    }

    // The provider's own Offer, not withdrawn.
    function _providersOffer(bytes32 offerId, uint32 me) private view returns (Offer storage o) {
        o = offers[offerId];
        require(o.provider != 0, "RSP:unknown-offer");
        require(o.provider == me, "RSP:not-provider");
        require(!o.withdrawn, "RSP:offer-withdrawn");
    }

    // UN/LOCODE (UNECE Rec. 16): 2 letters, then 3 of A-Z or 2-9 (C++ valid_locode).
    function _isLocode(bytes calldata s) private pure returns (bool) {
        if (s.length != 5) return false;
        for (uint256 i = 0; i < 5; ++i) {
            bytes1 c = s[i];
            if (!((c >= "A" && c <= "Z") || (i >= 2 && c >= "2" && c <= "9"))) return false;
        }
        return true;
    }

    // 1..32 printable ASCII bytes (0x21..0x7e, as valid_record_id), left-aligned, zero-padded (no byte after the first zero).
    function _validId(bytes32 id) private pure returns (bool) {
        uint256 n = 0;
        bool ended = false;
        for (uint256 i = 0; i < 32; ++i) {
            uint8 b = uint8(id[i]);
            if (b == 0) {
                ended = true;
            } else {
                if (ended || b < 0x21 || b > 0x7e) return false;
                ++n;
            }
        }
        return n > 0;
    }

    function _isPlmn(bytes calldata s, uint256 from, uint256 to) private pure returns (bool) {
        if (to - from < 5 || to - from > 6) return false;
        for (uint256 i = from; i < to; ++i)
            if (s[i] < "0" || s[i] > "9") return false;
        return true;
    }

    // Comma-separated PLMNs ("20801,20810"); empty means no coverage listed.
    function _validCoverage(bytes calldata s) private pure returns (bool) {
        if (s.length == 0) return true;
        uint256 start = 0;
        for (uint256 i = 0; i <= s.length; ++i) {
            if (i == s.length || s[i] == ",") {
                if (!_isPlmn(s, start, i)) return false;
                start = i + 1;
            }
        }
        return true;
    }

    // `v` in decimal, for the index in a batch's revert reason.
    function _decimal(uint256 v) private pure returns (string memory) {
        if (v == 0) return "0";
        uint256 len = 0;
        for (uint256 t = v; t != 0; t /= 10) ++len;
        bytes memory s = new bytes(len);
        for (; v != 0; v /= 10) s[--len] = bytes1(uint8(48 + v % 10));
        return string(s);
    }

    // An uncompressed point 04||X||Y: the same shape check as the embedded
    // ledger (whether it lies on P-256 is the sealing code's to find out).
    function _isPoint(bytes calldata k) private pure returns (bool) {
        return k.length == 65 && k[0] == 0x04;
    }
}
