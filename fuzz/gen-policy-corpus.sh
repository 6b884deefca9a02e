#!/bin/sh
# gen-policy-corpus.sh -- write the seeds of fuzz/corpus/policy/ (run by
# hand; the output is reviewed and committed).  Each seed is one selector
# byte (see fuzz/fuzz_policy.c) and a real PKCS#10 made with openssl req:
# RSA 1024/2048/4096/8192, EC P-256/P-384/secp256k1, Ed25519, 64, 65 and
# 10,000 SANs, an empty subject, 32 and 33 RDNs, UTF-8/BMP/odd CNs, every
# SAN type, requested CA:TRUE / keyCertSign / serverAuth extensions.
#	fuzz/gen-policy-corpus.sh [OUTDIR]
set -eu
out=${1:-$(dirname "$0")/corpus/policy}
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() {	# key NAME ALG [OPT]
	[ -f "$tmp/$1.key" ] && return 0
	if [ $# -gt 2 ]; then
		openssl genpkey -algorithm "$2" -pkeyopt "$3" \
		    -out "$tmp/$1.key" 2>/dev/null
	else
		openssl genpkey -algorithm "$2" -out "$tmp/$1.key" 2>/dev/null
	fi
}
# dirName SANs name a section of the config.
printf '[req]\ndistinguished_name = dn\n[dn]\n[dn_sect]\nCN = dir\n' \
    >"$tmp/req.cnf"
key rsa1024 RSA rsa_keygen_bits:1024
key rsa2048 RSA rsa_keygen_bits:2048
key rsa4096 RSA rsa_keygen_bits:4096
key rsa8192 RSA rsa_keygen_bits:8192
key p256 EC ec_paramgen_curve:P-256
key p384 EC ec_paramgen_curve:P-384
key k256 EC ec_paramgen_curve:secp256k1
key ed25519 ED25519

# seed NAME SELECTORS KEY SUBJECT [ADDEXT...]: one CSR, one file per
# selector byte (hex).
seed() {
	name=$1 sels=$2 k=$3 subj=$4
	shift 4
	set -- "$@"
	exts=""
	for e in "$@"; do
		exts="$exts -addext \"$e\""
	done
	# shellcheck disable=SC2086  # $exts: quoted for eval above
	eval openssl req -new -key "$tmp/$k.key" -utf8 -subj "\"$subj\"" \
	    -config "$tmp/req.cnf" $exts -outform DER -out "$tmp/$name.der"
	for s in $sels; do
		# shellcheck disable=SC2059  # the selector byte as an escape
		printf "\\$(printf %03o "0x$s")" >"$out/$name-$s.bin"
		cat "$tmp/$name.der" >>"$out/$name-$s.bin"
	done
}

seed rsa2048-dev "00 08 40 c0 29 3b" rsa2048 "/CN=dev01/O=Example" \
    "subjectAltName=DNS:dev01.example.com,IP:10.0.0.1,email:a@example.com,URI:https://dev01.example.com/"
seed rsa1024-legacy "03 06 00" rsa1024 "/CN=dev02"
seed rsa4096 "02 04 10" rsa4096 "/CN=dev03" "subjectAltName=DNS:dev03.example.com"
seed rsa8192-huge "07 00 47" rsa8192 "/CN=dev04" "subjectAltName=DNS:dev04.example.com"
seed ec-p256 "00 05 42 15 a8" p256 "/CN=dev05" "subjectAltName=DNS:dev05.example.com,IP:10.1.2.3"
seed ec-p384 "00 02 45" p384 "/CN=dev06" "subjectAltName=IP:::1,IP:10.9.9.9"
seed ec-k256 "00 02" k256 "/CN=dev07"
seed ed25519 "00" ed25519 "/CN=dev08"
seed empty-subject "00 01 40 10" p256 "/" "subjectAltName=critical,DNS:nosubject.example.com"
seed empty-subject-nosan "00 01" p256 "/"
seed utf8-cn "00 18 38" p256 "/CN=Gerät-ü-日本/O=Ünïcödé"
seed star-cn "08 38 28" p256 "/CN=*\\/dev*/OU=a+OU=b" "subjectAltName=DNS:*.example.com,email:x@example.com"
# CN is capped at 64 by openssl req; domainComponent is not.
seed long-rdn "00 08" rsa2048 "/CN=dev/DC=$(printf 'x%.0s' $(seq 1 3000))"
seed upn-othername "00 18 40" p256 "/CN=user1" \
    "subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:user1@example.com,RID:1.2.3.4,dirName:dn_sect"
seed ca-request "00 01 04 46" rsa2048 "/CN=dev09" \
    "basicConstraints=critical,CA:TRUE" "keyUsage=critical,keyCertSign,cRLSign" \
    "extendedKeyUsage=serverAuth,codeSigning,OCSPSigning"
seed ctrl-san "00 10" p256 "/CN=dev10" "subjectAltName=DNS:a$(printf "\\001")b.example.com,URI:http://$(printf "\\177")/"

# RDN counts: 32 (the limit) and 33.
rdns() {
	i=0 s=""
	while [ $i -lt "$1" ]; do
		s="$s/OU=u$i"
		i=$((i + 1))
	done
	echo "$s"
}
seed rdn32 "00 08" p256 "/CN=dev11$(rdns 31)"
seed rdn33 "00" p256 "/CN=dev12$(rdns 32)"

# SAN counts: 64 (the limit), 65 and 10,000.
sans() {
	i=0 s="subjectAltName=DNS:h0.example.com"
	while [ $i -lt "$1" ]; do
		i=$((i + 1))
		s="$s,DNS:h$i.example.com"
	done
	echo "$s"
}
seed san64 "00 10 40" p256 "/CN=dev13" "$(sans 63)"
seed san65 "00" p256 "/CN=dev14" "$(sans 64)"
# 10,000 do not fit one argument: a config section.
{
	cat "$tmp/req.cnf"
	printf '[big]\nsubjectAltName = @big_alt\n[big_alt]\n'
	i=1
	while [ $i -le 10000 ]; do
		echo "DNS.$i = h$i.example.com"
		i=$((i + 1))
	done
} >"$tmp/big.cnf"
openssl req -new -key "$tmp/p256.key" -subj "/CN=dev15" -config \
    "$tmp/big.cnf" -reqexts big -outform DER -out "$tmp/san10000.der"
# (one seed: the decoder refuses it whatever the selector)
printf '\020' >"$out/san10000-10.bin"
cat "$tmp/san10000.der" >>"$out/san10000-10.bin"
echo "gen-policy-corpus: $(find "$out" -type f | wc -l) seeds in $out"
