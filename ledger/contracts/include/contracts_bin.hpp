// Creation bytecode (hex, no 0x) and ABI (JSON) of the marketplace
// contracts, generated at build time by ledger/contracts/compile.js.
#pragma once

namespace rsp::ledger::contracts {

extern const char* const kSolcVersion;  // the solc that compiled them
extern const char* const kEvmVersion;   // "london"

extern const char* const kSDRtBytecode;
extern const char* const kSDRtAbi;
extern const char* const kMarketplaceBytecode;
extern const char* const kMarketplaceAbi;

}  // namespace rsp::ledger::contracts
