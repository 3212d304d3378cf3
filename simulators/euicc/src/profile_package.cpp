// Installing a profile package: the UICC card core (rsp::uicc) builds the
// profile's file system, PINs and AKA parameters; the eUICC keeps the
// package (to rebuild at start) and what the Milenage hook needs.
#include "euicc_impl.hpp"

namespace rsp::sim {

Bytes Euicc::Impl::install_profile_package(ByteView pes, Profile& p) {
  auto image = uicc::build_card_image(pes);
  p.package.assign(pes.begin(), pes.end());
  p.usim_aid = image->first_usim_aid;
  p.aka_parameters.clear();
  for (const auto& [aid, aka] : image->aka) p.aka_parameters.push_back(aka.der);
  Bytes iccid = image->header_iccid;
  p.image = std::shared_ptr<uicc::CardImage>(std::move(image));
  return iccid;
}

}  // namespace rsp::sim
