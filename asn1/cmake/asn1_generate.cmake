# Runs asn1c on the ASN.1 modules and prepares its output for this project.
# Script mode:  cmake -DASN1C=<asn1c> -DOUT_DIR=<dir> -DMODULES=<a.asn;b.asn>
#                     [-DSTAMP=<file>] -P asn1_generate.cmake
#
# 1. empties OUT_DIR (no stale files from types that no longer exist),
# 2. runs asn1c with the project's flags,
# 3. patches the copied skeleton asn_SET_OF.h so that the generated headers
#    compile as C++ (see asn1/README.md),
# 4. drops asn1c's sample program and makefile,
# 5. turns the no-op ASN_DEBUG into a macro (its arguments had side effects),
# 6. works around an asn1c 0.9.28 bug that disables constraint checks,
# 7. removes undefined behaviour from the runtime (shifts UBSan reports),
# 8. touches STAMP.
cmake_minimum_required(VERSION 3.25)

foreach(var ASN1C OUT_DIR MODULES)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "asn1_generate.cmake: ${var} is not set")
  endif()
endforeach()

set(ASN1C_FLAGS -fcompound-names -fno-include-deps -fwide-types -pdu=auto)

file(REMOVE_RECURSE "${OUT_DIR}")
file(MAKE_DIRECTORY "${OUT_DIR}")
execute_process(
  COMMAND "${ASN1C}" ${ASN1C_FLAGS} ${MODULES}
  WORKING_DIRECTORY "${OUT_DIR}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "asn1c failed (${rc}):\n${err}\n${out}")
endif()

# The skeleton declares the element destructor of every SET OF / SEQUENCE OF
# as `void (*free)(type *)`. When `type` is an inline struct definition
# (A_SEQUENCE_OF(struct X { ... })), C++ sees that struct defined twice and
# rejects the header. C does not care. Under C++ the member is declared with a
# void pointer instead; the runtime only ever calls it through a void pointer.
set(hdr "${OUT_DIR}/asn_SET_OF.h")
file(READ "${hdr}" text)
set(orig "\t\tvoid (*free)(type *);\t\t\t\\\n")
string(FIND "${text}" "${orig}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "asn_SET_OF.h: the expected `void (*free)(type *)` line was not found; asn1c skeleton changed?")
endif()
set(patched "RSP_ASN_SET_OF_FREE_MEMBER(type)\t\\\n")
string(REPLACE "${orig}" "\t\t${patched}" text "${text}")
set(guard [=[
/* Patched by rsp asn1_generate.cmake: C++ cannot redeclare an inline struct
 * in the element-destructor member, so C++ sees a void pointer there. */
#ifdef __cplusplus
#define RSP_ASN_SET_OF_FREE_MEMBER(type) void (*free)(void *);
#else
#define RSP_ASN_SET_OF_FREE_MEMBER(type) void (*free)(type *);
#endif

#define	A_SET_OF(type)]=])
string(REPLACE "#define\tA_SET_OF(type)" "${guard}" text "${text}")
file(WRITE "${hdr}" "${text}")

file(REMOVE "${OUT_DIR}/converter-sample.c" "${OUT_DIR}/Makefile.am.sample")

# With debugging off, the skeleton's ASN_DEBUG is an empty *function*, so its
# arguments are still evaluated on every decoded tag: ber_tlv_tag_string()
# formats into one static buffer (a data race between threads, and a read of
# an uninitialised tag on truncated input) and costs an snprintf per element.
# Make it a macro that discards its arguments.
set(hdr "${OUT_DIR}/asn_internal.h")
file(READ "${hdr}" text)
set(orig "static void ASN_DEBUG(const char *fmt, ...) { (void)fmt; }")
string(FIND "${text}" "${orig}" pos)
if(pos EQUAL -1)
  message(FATAL_ERROR "asn_internal.h: the expected ASN_DEBUG stub was not found; asn1c skeleton changed?")
endif()
string(REPLACE "${orig}" "#define ASN_DEBUG(...) do { } while(0) /* patched: arguments not evaluated */" text "${text}")
file(WRITE "${hdr}" "${text}")

# asn1c 0.9.28 bug: for a type derived from another (Octet16 ::= OCTET STRING
# (SIZE(16)), named INTEGERs, ...) the generated *_inherit_TYPE_descriptor()
# copies the base type's check_constraints into the global descriptor the
# first time a value of that type is decoded, encoded, printed or freed. From
# then on the type's own constraint (SIZE(16), ...) is silently never checked.
# Remove that store; where a constraint function delegates to its base type,
# call the base checker directly instead of rewriting the descriptor.
file(GLOB gen_c "${OUT_DIR}/*.c")
set(n_patched 0)
foreach(f IN LISTS gen_c)
  file(READ "${f}" text)
  string(FIND "${text}" "td->check_constraints = asn_DEF_" pos)
  if(pos EQUAL -1)
    continue()
  endif()
  string(REGEX REPLACE
    "\ttd->check_constraints = (asn_DEF_[A-Za-z0-9_]+)[.]check_constraints;\n\treturn td->check_constraints[(]"
    "\treturn \\1.check_constraints(" text "${text}")
  string(REGEX REPLACE
    "\ttd->check_constraints = asn_DEF_[A-Za-z0-9_]+[.]check_constraints;\n"
    "" text "${text}")
  # A constraint function that first checks its own constraint then "validates
  # the inner elements" calls td->check_constraints, which used to be the base
  # checker only because of that store (and recursed forever before it). Call
  # the base type's checker named in the inherit function instead.
  string(REGEX MATCH "td->free_struct    = (asn_DEF_[A-Za-z0-9_]+)[.]free_struct" m "${text}")
  if(m)
    set(base "${CMAKE_MATCH_1}")
    get_filename_component(stem "${f}" NAME_WE)
    string(REPLACE "-" "_" stem "${stem}")
    string(FIND "${text}" "\n${stem}_constraint(asn_TYPE_descriptor_t *td" start)
    if(NOT start EQUAL -1)
      string(SUBSTRING "${text}" 0 ${start} head)
      string(SUBSTRING "${text}" ${start} -1 rest)
      string(FIND "${rest}" "\n}\n" end)
      string(SUBSTRING "${rest}" 0 ${end} func)
      string(SUBSTRING "${rest}" ${end} -1 tail)
      string(REPLACE "return td->check_constraints(td," "return ${base}.check_constraints(td," func "${func}")
      set(text "${head}${func}${tail}")
    endif()
  endif()
  string(FIND "${text}" "td->check_constraints =" left)
  if(NOT left EQUAL -1)
    message(FATAL_ERROR "asn1_generate.cmake: unexpected check_constraints store left in ${f}")
  endif()
  file(WRITE "${f}" "${text}")
  math(EXPR n_patched "${n_patched} + 1")
endforeach()
if(n_patched EQUAL 0)
  message(FATAL_ERROR "asn1_generate.cmake: no check_constraints store found; asn1c output changed?")
endif()

# Undefined behaviour in the asn1c 0.9.28 runtime, reachable from any peer's
# DER (UBSan reports each one; tests/asn1/runtime_ub_test.cpp has the inputs).
# Each patch replaces one exact piece of skeleton text and fails the build if
# that text is not there.
function(rsp_patch_runtime file orig replacement)
  set(path "${OUT_DIR}/${file}")
  file(READ "${path}" text)
  string(FIND "${text}" "${orig}" first)
  string(FIND "${text}" "${orig}" last REVERSE)
  if(first EQUAL -1 OR NOT first EQUAL last)
    message(FATAL_ERROR "asn1_generate.cmake: the expected text was not found exactly once in ${file}; asn1c skeleton changed?\n${orig}")
  endif()
  string(REPLACE "${orig}" "${replacement}" text "${text}")
  file(WRITE "${path}" "${text}")
endfunction()

# ber_fetch_length (X.690 8.1.3.5 long form): `len << 8` on the signed
# ber_tlv_len_t overflows when len is already >= 2^55 (e.g. length octets
# 88 80 00 00 00 00 00 00 00); the `len < 0` check after it comes too late.
# Refuse the length before shifting.
rsp_patch_runtime(ber_tlv_length.c
  "\t\t\tlen = (len << 8) | *buf;\n"
  "\t\t\tif((size_t)len > ((size_t)-1 >> 9))\n\t\t\t\treturn -1;\t/* patched: len << 8 would overflow */\n\t\t\tlen = (len << 8) | *buf;\n")

# OCTET_STRING_decode_ber for BIT STRING: the unused-bit count is the first
# content octet as received (0..255), and `0xff << bits_unused` shifts by up
# to 255. X.690 8.6.2.2/8.6.2.3: it is 0..7, and 0 for an empty string; refuse
# anything else.
rsp_patch_runtime(OCTET_STRING.c
  "\tif(type_variant == ASN_OSUBV_BIT && st->size) {\n\t\t/* Finalize BIT STRING: zero out unused bits. */\n\t\tst->buf[st->size-1] &= 0xff << st->bits_unused;\n\t}\n"
  "\tif(type_variant == ASN_OSUBV_BIT) {\n\t\t/* patched: X.690 8.6.2.2: 0..7 unused bits, 0 when empty */\n\t\tif(st->bits_unused < 0 || st->bits_unused > 7\n\t\t|| (!st->size && st->bits_unused))\n\t\t\tRETURN(RC_FAIL);\n\t}\n\tif(type_variant == ASN_OSUBV_BIT && st->size) {\n\t\t/* Finalize BIT STRING: zero out unused bits. */\n\t\tst->buf[st->size-1] &= 0xff << st->bits_unused;\n\t}\n")

# asn_INTEGER2long: a negative INTEGER starts from l = -1 and shifts it left,
# which is undefined for a negative value. Shift as unsigned long; the
# conversion back is two's complement on every compiler we build with.
rsp_patch_runtime(INTEGER.c
  "\tif((*b >> 7)) l = -1; else l = 0;\n\n\t/* Conversion engine */\n\tfor(; b < end; b++)\n\t\tl = (l << 8) | *b;\n"
  "\tif((*b >> 7)) l = -1; else l = 0;\n\n\t/* Conversion engine */\n\tfor(; b < end; b++)\n\t\tl = (long)(((unsigned long)l << 8) | *b);\t/* patched: no shift of a negative value */\n")

# UTF8String__process (UTF8String_length calls it with no output buffer):
# `dst + dstlen` on a null dst is pointer arithmetic on a null pointer
# (clang's UBSan reports it; found by fuzz_asn1_pdu, input in
# fuzz/regressions/asn1_pdu/).
rsp_patch_runtime(UTF8String.c
  "\tuint32_t *dstend = dst + dstlen;\n"
  "\tuint32_t *dstend = dst ? dst + dstlen : dst;\t/* patched: no arithmetic on a null pointer */\n")

# CHOICE_decode_ber, tagged CHOICE with an indefinite length: after the
# member it reads end-of-contents octets, and on `00 xx` with xx != 0 it
# neither advances nor fails: an endless loop on 7 bytes (e.g.
# BF 2D 80 A0 00 00 32). AuthenticateServerResponse, PrepareDownloadResponse
# and CancelSessionResponse are such CHOICEs, decoded by the SM-DP+ from
# ES9+ requests before any signature check. Found by fuzz_asn1_pdu.
rsp_patch_runtime(constr_CHOICE.c
  "\t\t\t\t\tADVANCE(2);\n\t\t\t\t\tctx->left++;\n\t\t\t\t\tcontinue;\n\t\t\t\t}\n\t\t\t} else {\n"
  "\t\t\t\t\tADVANCE(2);\n\t\t\t\t\tctx->left++;\n\t\t\t\t\tcontinue;\n\t\t\t\t}\n\t\t\t\t/* patched: <0><x>, x != 0, is no end-of-contents (looped forever) */\n\t\t\t\tRETURN(RC_FAIL);\n\t\t\t} else {\n")

if(DEFINED STAMP AND NOT "${STAMP}" STREQUAL "")
  file(TOUCH "${STAMP}")
endif()
