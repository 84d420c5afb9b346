#!/bin/sh
# Regenerates the TLS unit-test certificates (tests/unit/test-tls.c).
# The outputs are committed; run this only to change them:
#   cd tests/data/tls && ./make-certs.sh
# Needs certtool (gnutls-bin) and openssl (for the independent SPKI pins).
# All keys are ECDSA P-256. Test-only material: never use it elsewhere.
set -eu
cd "$(dirname "$0")"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

key() {
    certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
        --no-text --outfile "$1" 2>/dev/null
}

# ca NAME CN: a CA valid for about 100 years (its key is thrown away).
ca() {
    key "$tmp/$1-key.pem"
    cat >"$tmp/$1.tmpl" <<T
cn = "$2"
serial = 1
expiration_days = 36500
ca
cert_signing_key
crl_signing_key
T
    certtool --generate-self-signed --load-privkey "$tmp/$1-key.pem" \
        --template "$tmp/$1.tmpl" --hash SHA256 --outfile "$1.pem" 2>/dev/null
}

# leaf NAME CA SERIAL HASH TEMPLATE-LINES...: a TLS server certificate
# signed by CA (or self-signed when CA is "self").
leaf() {
    name=$1 ca=$2 serial=$3 hash=$4
    shift 4
    key "$name-key.pem"
    {
        echo "serial = $serial"
        echo "signing_key"
        echo "tls_www_server"
        for line in "$@"; do echo "$line"; done
    } >"$tmp/$name.tmpl"
    if [ "$ca" = self ]; then
        certtool --generate-self-signed --load-privkey "$name-key.pem" \
            --template "$tmp/$name.tmpl" --hash "$hash" \
            --outfile "$name.pem" 2>/dev/null
    else
        certtool --generate-certificate --load-privkey "$name-key.pem" \
            --load-ca-certificate "$ca.pem" --load-ca-privkey "$tmp/$ca-key.pem" \
            --template "$tmp/$name.tmpl" --hash "$hash" \
            --outfile "$name.pem" 2>/dev/null
    fi
}

# SHA-256 of the DER SubjectPublicKeyInfo, as lowercase hex.
pin() {
    openssl x509 -in "$1.pem" -noout -pubkey |
        openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1 >"$1.pin"
}

ca ca "xmppc test CA"
ca other-ca "xmppc other test CA"

leaf server ca 10 SHA256 'cn = "xmppc.test"' 'dns_name = "localhost"' \
    'dns_name = "xmppc.test"' 'ip_address = "127.0.0.1"' \
    'ip_address = "::1"' 'expiration_days = 36500'
leaf wrong-name ca 11 SHA256 'cn = "wrong.invalid"' \
    'dns_name = "wrong.invalid"' 'expiration_days = 36500'
leaf expired ca 12 SHA256 'cn = "xmppc.test"' 'dns_name = "xmppc.test"' \
    'activation_date = "2001-01-01 00:00:00 UTC"' \
    'expiration_date = "2002-01-01 00:00:00 UTC"'
leaf not-yet-valid ca 13 SHA256 'cn = "xmppc.test"' 'dns_name = "xmppc.test"' \
    'activation_date = "2100-01-01 00:00:00 UTC"' \
    'expiration_date = "2120-01-01 00:00:00 UTC"'
leaf sha1 ca 14 SHA1 'cn = "xmppc.test"' 'dns_name = "xmppc.test"' \
    'expiration_days = 36500'
leaf self-signed self 15 SHA256 'cn = "xmppc.test"' \
    'dns_name = "xmppc.test"' 'expiration_days = 36500'
leaf other-server other-ca 16 SHA256 'cn = "xmppc.test"' \
    'dns_name = "xmppc.test"' 'expiration_days = 36500'

pin server
pin self-signed

# A file that is not a certificate, for the bad-CA-file test.
echo "this is not a certificate" >not-a-cert.pem
