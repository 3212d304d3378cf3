#!/usr/bin/env bash
# How the openssl-derived constants in known_answer_test.cpp were computed,
# independently of our code: each packet is assembled here byte by byte from
# ETSI TS 102 225 5.1/5.2 and 3GPP TS 31.115 4.2/4.4, and every cipher and
# checksum comes from the openssl command line (OpenSSL 3.0; single DES needs
# its legacy provider). Not run by ctest: it documents the constants.
#
#   bash tests/ota/openssl_vectors.sh
set -euo pipefail
LEGACY="-provider legacy -provider default"
zeros() { local i; for ((i = 0; i < $1; i++)); do printf 00; done; }
# enc CIPHER KEY HEX: CBC with a zero IV, no padding of openssl's
enc() { local iv=16; [[ $1 == aes* ]] && iv=32
  printf '%s' "$3" | xxd -r -p | openssl enc $LEGACY -"$1" -nopad -K "$2" -iv "$(printf '%0*d' $iv 0)" | xxd -p -c 4096; }
# cbcmac CIPHER KEY HEX: TS 102 225 5.1.3.1 DES/3DES CBC-MAC: zero-pad to 8, last block
cbcmac() { local d="$3"; while (( ${#d} % 16 )); do d+="00"; done; enc "$1" "$2" "$d" | tail -c 17 | head -c 16; }
# cmac CIPHER KEY HEX LEN: AES-CMAC, leftmost LEN bytes
cmac() { printf '%s' "$3" | xxd -r -p | openssl mac -cipher "$1" -macopt hexkey:"$2" CMAC | tr A-F a-f | head -c $(($4 * 2)); }
hex2() { printf '%04x' "$1"; }
hex1() { printf '%02x' "$1"; }

# command SPI KIC KID TAR CNTR DATA BLOCK SUMLEN SUMFN CIPHERFN
# SUMFN/CIPHERFN are shell words called with the hex to protect.
command() {
  local spi=$1 kic=$2 kid=$3 tar=$4 cntr=$5 data=$6 bs=$7 sl=$8 sumfn=$9 cfn=${10}
  local dl=$((${#data} / 2)) pad=0
  if [[ -n $cfn ]]; then pad=$(( (bs - (6 + sl + dl) % bs) % bs )); fi
  local chl=$((13 + sl)) cpl=$((1 + 13 + sl + dl + pad))
  local head="$(hex2 $cpl)$(hex1 $chl)$spi$kic$kid$tar"
  local counters="$cntr$(hex1 $pad)" padded="$data$(zeros $pad)"
  local sum=""; [[ -n $sumfn ]] && sum=$($sumfn "$head$counters$padded")
  local rest="$counters$sum$padded"
  [[ -n $cfn ]] && rest=$($cfn "$rest")
  echo "$head$rest"
}
# response TAR CNTR STATUS DATA BLOCK SUMLEN SUMFN CIPHERFN (RPL onwards; the CC covers '027100' too)
response() {
  local tar=$1 cntr=$2 sts=$3 data=$4 bs=$5 sl=$6 sumfn=$7 cfn=$8
  local dl=$((${#data} / 2)) pad=0
  if [[ -n $cfn ]]; then pad=$(( (bs - (7 + sl + dl) % bs) % bs )); fi
  local rhl=$((10 + sl)) rpl=$((1 + 10 + sl + dl + pad))
  local head="$(hex2 $rpl)$(hex1 $rhl)$tar" counters="$cntr$(hex1 $pad)$sts" padded="$data$(zeros $pad)"
  local sum=""; [[ -n $sumfn ]] && sum=$($sumfn "027100$head$counters$padded")
  local rest="$counters$sum$padded"
  [[ -n $cfn ]] && rest=$($cfn "$rest")
  echo "$head$rest"
}

DATA=00a40004023f00a0b0c0d0e0f0102030  # SELECT MF + 9 more bytes: more than one block

# A. DES-CBC + DES CBC-MAC, KIc=KID='11' (version 1), SPI 16 39 (CC, ciphered,
#    counter must be higher; PoR always, with CC, ciphered, by SMS-SUBMIT).
DES_KIC=0123456789abcdef; DES_KID=fedcba9876543210
a_sum() { cbcmac des-cbc $DES_KID "$1"; }; a_enc() { enc des-cbc $DES_KIC "$1"; }
echo "A_DES_CMD      $(command 1639 11 11 b00010 0000000001 $DATA 8 8 a_sum a_enc)"
echo "A_DES_POR      $(response b00010 0000000001 00 019000 8 8 a_sum a_enc)"

# B. 3DES 3 keys, KIc=KID='19' (version 1, 1001), SPI 1E 09 (CC, ciphered,
#    counter exactly one higher; PoR always, with CC, not ciphered).
T3_KIC=0123456789abcdeffedcba987654321089abcdef01234567
T3_KID=1111111111111111222222222222222233333333333333333
T3_KID=${T3_KID:0:48}
b_sum() { cbcmac des-ede3-cbc $T3_KID "$1"; }; b_enc() { enc des-ede3-cbc $T3_KIC "$1"; }
echo "B_3DES3_CMD    $(command 1e09 19 19 b00001 0000000002 $DATA 8 8 b_sum b_enc)"
echo "B_3DES3_POR    $(response b00001 0000000002 00 019000 8 8 b_sum '')"

# C. AES-192-CBC + AES-CMAC (8 bytes), KIc=KID='22' (version 2), SPI 0E 1A
#    (CC, ciphered, counter available without check; PoR on error, CC, ciphered).
A192_KIC=000102030405060708090a0b0c0d0e0f1011121314151617
A192_KID=a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7
c_sum() { cmac AES-192-CBC $A192_KID "$1" 8; }; c_enc() { enc aes-192-cbc $A192_KIC "$1"; }
echo "C_AES192_CMD   $(command 0e1a 22 22 b00011 0000000003 $DATA 16 8 c_sum c_enc)"
echo "C_AES192_POR   $(response b00011 0000000003 01 '' 16 8 c_sum c_enc)"

# D. AES-256-CBC + AES-CMAC truncated to 4 bytes, KIc=KID='32' (version 3),
#    SPI 06 19 (CC, ciphered, no counter; PoR always, CC, ciphered).
A256_KIC=603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4
A256_KID=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f
d_sum() { cmac AES-256-CBC $A256_KID "$1" 4; }; d_enc() { enc aes-256-cbc $A256_KIC "$1"; }
echo "D_AES256_CMD   $(command 0619 32 32 b00000 0000000000 $DATA 16 4 d_sum d_enc)"
echo "D_AES256_POR   $(response b00000 0000000000 00 0161129000 16 4 d_sum d_enc)"

# E. RC with CRC32 (zlib's, = ISO/IEC 13239), KID='15' (version 1, CRC32),
#    SPI 01 01 (RC, no ciphering, no counter; PoR always, nothing on it).
e_sum() { /usr/bin/python3 -c "import zlib,sys; print('%08x' % zlib.crc32(bytes.fromhex(sys.argv[1])))" "$1"; }
echo "E_CRC32_CMD    $(command 0101 00 15 b00000 0000000000 $DATA 8 4 e_sum '')"

# F. RC with CRC32 on the command and on its PoR: SPI 01 05 (RC; PoR always,
#    with RC), KID '15'.
echo "F_CRC32_CMD    $(command 0105 00 15 b00000 0000000000 $DATA 8 4 e_sum '')"
echo "F_CRC32_POR    $(response b00000 0000000000 00 019000 8 4 e_sum '')"
