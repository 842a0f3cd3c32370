#!/bin/sh
# gen_certs.sh - the test certificates of tests/test_tls.c, into tests/certs.
#
#   sh tools/gen_certs.sh [outdir]        (default: tests/certs)
#
# Everything is for loopback tests only and valid for 100 years, so the
# checked-in files never expire under the tests:
#   ca.crt            "rmq test CA": signs every certificate below
#   server.crt/.key   the TLS terminator's certificate: CN localhost,
#                     subjectAltName DNS:localhost, DNS:127.0.0.1,
#                     IP:127.0.0.1, IP:::1 (mbedTLS before 3.5 matches only
#                     dNSName entries, so the address is there in both forms)
#   other_host.crt/.key  a certificate of the same CA for "other.invalid"
#                     only: a server presenting it fails the host-name check
#   client.crt/.key   a client certificate (extendedKeyUsage clientAuth)
#   ca2.crt           "rmq test CA 2": a second CA that signed none of them
# Keys are EC P-256 (quick handshakes, also under valgrind). The CA keys are
# deleted at the end: nothing more can be signed with the checked-in files.
set -eu

out=${1:-tests/certs}
days=36500
command -v openssl >/dev/null 2>&1 || { echo "gen_certs.sh: openssl is needed" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

ca() { # name subject
    key "$tmp/$1.key"
    openssl req -x509 -new -key "$tmp/$1.key" -sha256 -days $days -subj "$2" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" \
        -addext "subjectKeyIdentifier=hash" \
        -out "$out/$1.crt"
}

leaf() { # name subject extensions
    key "$out/$1.key"
    openssl req -new -key "$out/$1.key" -subj "$2" -out "$tmp/$1.csr"
    printf '%s\n' "$3" > "$tmp/$1.ext"
    openssl x509 -req -in "$tmp/$1.csr" -CA "$out/ca.crt" -CAkey "$tmp/ca.key" \
        -CAcreateserial -CAserial "$tmp/ca.srl" -sha256 -days $days \
        -extfile "$tmp/$1.ext" -out "$out/$1.crt" 2>/dev/null
}

ca ca "/O=rocketmq_producer.h tests/CN=rmq test CA"
ca ca2 "/O=rocketmq_producer.h tests/CN=rmq test CA 2"

server_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1,IP:::1'
leaf server "/O=rocketmq_producer.h tests/CN=localhost" "$server_ext"

other_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:other.invalid'
leaf other_host "/O=rocketmq_producer.h tests/CN=other.invalid" "$other_ext"

client_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'
leaf client "/O=rocketmq_producer.h tests/CN=rmq test client" "$client_ext"

chmod 644 "$out"/*.crt "$out"/*.key
echo "gen_certs.sh: wrote $(ls "$out" | tr '\n' ' ')into $out"
