#!/usr/bin/env bash
# Recomputes the known answers of scp03_test.cpp and scp02_test.cpp with the
# openssl command line only (OpenSSL 3: `openssl mac` for AES-CMAC, `openssl
# enc` for AES/DES/3DES), independently of rsp::gp. Run it and compare with the
# constants in the tests. Single DES needs the legacy provider.
set -euo pipefail
cmac() { echo -n "$2" | xxd -r -p | openssl mac -cipher AES-128-CBC -macopt hexkey:"$1" CMAC | tr A-F a-f; }
aescbc() { echo -n "$3" | xxd -r -p | openssl enc -aes-128-cbc -K "$1" -iv "$2" -nopad | xxd -p -c 256; }
des3cbc() { echo -n "$3" | xxd -r -p | openssl enc -des-ede-cbc -K "$1" -iv "$2" -nopad | xxd -p -c 256; }
des1cbc() { echo -n "$3" | xxd -r -p | openssl enc -des-cbc -K "$1" -iv "$2" -nopad -provider legacy -provider default | xxd -p -c 256; }
last8() { echo -n "${1: -16}"; }

K=404142434445464748494a4b4c4d4e4f
echo "== SCP03 (Amendment D 4.1.5 / 6.2), S8, keys 40..4F"
HC=0102030405060708; CC=1112131415161718; CTX=$HC$CC
L=0000000000000000000000
SENC=$(cmac $K ${L}0400008001$CTX); echo "S-ENC  $SENC"
SMAC=$(cmac $K ${L}0600008001$CTX); echo "S-MAC  $SMAC"
SRMAC=$(cmac $K ${L}0700008001$CTX); echo "S-RMAC $SRMAC"
CCRYPT=$(cmac $SMAC ${L}0000004001$CTX); CCRYPT=${CCRYPT:0:16}; echo "card cryptogram $CCRYPT"
HCRYPT=$(cmac $SMAC ${L}0100004001$CTX); HCRYPT=${HCRYPT:0:16}; echo "host cryptogram $HCRYPT"
MCV=00000000000000000000000000000000
EA=$(cmac $SMAC ${MCV}8482330010$HCRYPT); echo "EXTERNAL AUTHENTICATE (level 33) C-MAC ${EA:0:16} (MCV $EA)"
MCV=$EA
ICV=$(echo -n 00000000000000000000000000000001 | xxd -r -p | openssl enc -aes-128-ecb -K $SENC -nopad | xxd -p -c 256)
ENC=$(aescbc $SENC $ICV aabbcc80000000000000000000000000); echo "STORE DATA 80E29000 03 AABBCC enciphered $ENC"
CM=$(cmac $SMAC ${MCV}84e2900018$ENC); echo "its C-MAC ${CM:0:16} (MCV $CM)"
MCV=$CM
RICV=$(echo -n 80000000000000000000000000000001 | xxd -r -p | openssl enc -aes-128-ecb -K $SENC -nopad | xxd -p -c 256)
RENC=$(aescbc $SENC $RICV 01028000000000000000000000000000); echo "response 0102 9000 R-ENC $RENC"
RM=$(cmac $SRMAC ${MCV}${RENC}9000); echo "its R-MAC ${RM:0:16}"
echo "== SCP03 pseudo-random card challenge: counter 000001, AID A000000151000000"
PRC=$(cmac $K ${L}0200004001000001a000000151000000); echo "card challenge ${PRC:0:16}"

echo "== SCP02 (GP 2.3.1 E.4), keys 40..4F, sequence counter 0001"
Z=0000000000000000
SENC2=$(des3cbc $K $Z 01820001000000000000000000000000); echo "S-ENC  $SENC2"
CMAC2=$(des3cbc $K $Z 01010001000000000000000000000000); echo "C-MAC  $CMAC2"
RMAC2=$(des3cbc $K $Z 01020001000000000000000000000000); echo "R-MAC  $RMAC2"
DEK2=$(des3cbc $K $Z 01810001000000000000000000000000); echo "DEK    $DEK2"
HC2=0102030405060708; CC2=111213141516
C=$(des3cbc $SENC2 $Z ${HC2}0001${CC2}8000000000000000); echo "card cryptogram $(last8 $C)"
H=$(des3cbc $SENC2 $Z 0001${CC2}${HC2}8000000000000000); HC2CRYPT=$(last8 $H); echo "host cryptogram $HC2CRYPT"
# retail MAC over 84 82 01 00 10 || host cryptogram || 80 00 00: blocks 8482010010xxxxxx / xxxxxxxxxx800000
M="8482010010${HC2CRYPT}800000"
K1=${CMAC2:0:16}
S1=$(des1cbc $K1 $Z ${M:0:16})
EAMAC=$(des3cbc $CMAC2 $S1 ${M:16:16}); echo "EXTERNAL AUTHENTICATE C-MAC $EAMAC"
# next command 80 F2 80 02 02 4F00 (+MAC): ICV = DES-ECB(K1, previous MAC)
ICV2=$(echo -n $EAMAC | xxd -r -p | openssl enc -des-ecb -K $K1 -nopad -provider legacy -provider default | xxd -p)
# modified header 84 F2 80 02 0A, data 4F 00, padding 80: one block, so the retail MAC is 3DES(ICV xor block)
GS=$(des3cbc $CMAC2 $ICV2 84f280020a4f0080); echo "GET STATUS 80F28002 02 4F00 C-MAC (ICV-encrypted) $GS"

echo "== key check values and PUT KEY (GP 2.3.1 11.8.2.3, Amd D 7.3.2)"
echo -n 01010101010101010101010101010101 | xxd -r -p | openssl enc -aes-128-ecb -K $K -nopad | xxd -p | cut -c1-6 | sed 's/^/AES KCV of 40..4F /'
echo -n 0000000000000000 | xxd -r -p | openssl enc -des-ede-ecb -K $K -nopad | xxd -p | cut -c1-6 | sed 's/^/DES KCV of 40..4F /'
echo -n $K | xxd -r -p | openssl enc -aes-128-ecb -K 00112233445566778899aabbccddeeff -nopad | xxd -p | sed 's/^/40..4F under DEK 0011..FF /'

echo "== key diversification of 40..4F with KDD 00 01 .. 09 (ENC, MAC, DEK)"
for t in "emv 040506070809" "visa2 000104050607"; do
  set -- $t
  for k in 01 02 03; do
    echo -n "$2f0${k}${2}0f${k}" | xxd -r -p | openssl enc -des-ede-ecb -K $K -nopad | xxd -p | sed "s/^/$1 k=$k /"
  done
done

echo "== SCP02 level 13 (C-MAC, C-DECRYPTION, R-MAC), sequence counter 0001"
# EXTERNAL AUTHENTICATE 84 82 13 00 10 || host cryptogram: retail MAC, ICV zero
M="8482130010${HC2CRYPT}800000"
S1=$(des1cbc $K1 $Z ${M:0:16})
EA13=$(des3cbc $CMAC2 $S1 ${M:16:16}); echo "EXTERNAL AUTHENTICATE C-MAC $EA13"
# STORE DATA 80 E2 80 00 03 AABBCC: MAC over the modified header and the clear data, ICV = DES(K1, last MAC)
ICV3=$(echo -n $EA13 | xxd -r -p | openssl enc -des-ecb -K $K1 -nopad -provider legacy -provider default | xxd -p)
S1=$(des1cbc $K1 $ICV3 84e280000baabbcc)
SDMAC=$(des3cbc $CMAC2 $S1 8000000000000000); echo "STORE DATA C-MAC $SDMAC"
SDENC=$(des3cbc $SENC2 $Z aabbcc8000000000); echo "STORE DATA enciphered data $SDENC"
# response 01 02 90 00: R-MAC over 80 E2 80 00 03 AABBCC || 02 0102 || 9000, ICV zero, R-MAC session key
KR1=${RMAC2:0:16}
S1=$(des1cbc $KR1 $Z 80e2800003aabbcc)
RM2=$(des3cbc $RMAC2 $S1 0201029000800000); echo "response R-MAC $RM2"

echo "== SCP02 i=55 pseudo-random card challenge: full 3DES MAC of the ISD AID under the C-MAC session key (seq 0001)"
PR2=$(des3cbc $CMAC2 $Z a0000001510000008000000000000000); echo "card challenge $(last8 $PR2 | cut -c1-12)"

echo "== KDF3 (GlobalPlatformPro's SCP03 diversification): AES-CMAC(master, i || 000000 || k || 00 || KDD)"
# 40..4F with KDD 00 01 .. 09: the diversified keys and their AES KCVs
# (GlobalPlatformPro's TestPlaintextKeys expects KCVs E79C05, D1BD77, 3FDE8C).
for k in 01 02 03; do
  D=$(cmac $K 01000000${k}0000010203040506070809); echo "kdf3 k=$k $D KCV $(echo -n 01010101010101010101010101010101 | xxd -r -p | openssl enc -aes-128-ecb -K $D -nopad | xxd -p | cut -c1-6)"
done
# AES-256 master key: two blocks (i = 01, 02); GlobalPlatformPro's "external" vector.
M=8c72c72cf908411653018807950d82fbad947562f0828a0b10b8b9606abf3bcd; KDD=d9b1de5d0362dedce4fb
A=$(echo -n 0100000001 00$KDD | tr -d ' ' | xxd -r -p | openssl mac -cipher AES-256-CBC -macopt hexkey:$M CMAC | tr A-F a-f)
B=$(echo -n 0200000001 00$KDD | tr -d ' ' | xxd -r -p | openssl mac -cipher AES-256-CBC -macopt hexkey:$M CMAC | tr A-F a-f)
echo "kdf3 AES-256 ENC $A$B"
