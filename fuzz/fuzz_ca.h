/*
 * fuzz_ca.h -- the fixed CA identity fuzz/fuzz_policy.c issues with (EC
 * P-256, so signing costs little per execution; generated once with
 * `openssl genpkey` / `openssl req -x509`, CA:TRUE, keyCertSign, valid to
 * 2126; test only).
 */
#ifndef FUZZ_CA_H
#define FUZZ_CA_H

static const char fuzz_ca_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgewT1Ks7mpnBdvipR\n"
    "PtT3N5LkziMeA1MeRAcmNGcnC6ihRANCAAQzrSJdQwA/mesuB61nliOqz3hgx4oo\n"
    "KP5h6cAxBRTInPZp5qOeoU6bs/0WbT6HtTTQMYU/yPgCINC4rGmFgFxM\n"
    "-----END PRIVATE KEY-----\n";

static const char fuzz_ca_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBpDCCAUugAwIBAgIUJdRfWPeFMLM4aFgwkEBSGCRkQqIwCgYIKoZIzj0EAwIw\n"
    "HzEdMBsGA1UEAwwUc2NlcGQgZnV6eiBwb2xpY3kgQ0EwIBcNMjYxMjA3MjM1NzIw\n"
    "WhgPMjEyNjExMTMyMzU3MjBaMB8xHTAbBgNVBAMMFHNjZXBkIGZ1enogcG9saWN5\n"
    "IENBMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEM60iXUMAP5nrLgetZ5Yjqs94\n"
    "YMeKKCj+YenAMQUUyJz2aeajnqFOm7P9Fm0+h7U00DGFP8j4AiDQuKxphYBcTKNj\n"
    "MGEwHQYDVR0OBBYEFN2wA4eQc9bAu9SmeSKGjdDueEQqMB8GA1UdIwQYMBaAFN2w\n"
    "A4eQc9bAu9SmeSKGjdDueEQqMA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQD\n"
    "AgEGMAoGCCqGSM49BAMCA0cAMEQCICIkwqAW1h7lxuyOW9OE4jYptpy8qqQCUvDO\n"
    "ddxa9q91AiBCmjN58Px2saqtrkb30HyL+jGvdEBN+uCXkiz8uKk6ng==\n"
    "-----END CERTIFICATE-----\n";

#endif /* !FUZZ_CA_H */
