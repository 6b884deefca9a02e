/*
 * fuzz_keys.h -- the fixed RA identity the envelope fuzzer decrypts with
 * (generated once with `openssl genpkey` / `openssl req -x509`; test only).
 * fuzz/corpus/env/ seeds are encrypted to this certificate.
 */
#ifndef FUZZ_KEYS_H
#define FUZZ_KEYS_H

static const char fuzz_ra_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCwXk21r7rcwSWx\n"
    "IR/+z10EFe7wT5kTCHyWIaBQSfmnTlz9Yk2jM2/zbshoW9Xp8M+1D/0r97+9G0xf\n"
    "+goewj2GkqadN16oFOHqco4XgSMWex/RBi3ffwXpid4nVpTk0ctdKXJ5NHvX9kx3\n"
    "G+roTfcY5tMWe/ySCb8iAi7pQm7XA/4dLVUcnuJZlIqkP/7qPuLBzw5Op/ozL9S/\n"
    "0y4Lqps1vYQ1eYe3QKWjoNgG0j+e4iiJZYCulYPXscB5ewlINqAyfsV0+fL0Uxfq\n"
    "fDe7ytgMamTG3wj21Gv1frlce8h7A3VLbAXiz9+1Q2JVZEijZK6RWyceus3aRLkB\n"
    "I4DmfKvlAgMBAAECggEACmzopw7GOvpn4fqVS5iyZOVvBGGQKOHdi3pdYaGd0lf9\n"
    "gzTmZflKatdnnVOgZ33GqWtSieDRQrp0X1AGfR76SBQvKSf2vnTNjfBLmfQWQOPy\n"
    "U4bL+2Qk01NFAIpLruL/5HfovmVt1KxIhNnvnt/M9XnfjHqzyWYuGDKM11kH+Em5\n"
    "AenKSm8tDUJKWZ82Q/fyc9ZogkCYZcUKWixWPHA/cCVA4fhQUMFQo6Blw3K0Wk3Z\n"
    "O8T/4F2Ai448rfQxsfRFRKWlEBUSnNegxoQqU3xejNFdNsObwSn/+XQNg75QrXvY\n"
    "LZhLUmHzMZXmYlkia2uPph0x82X/dPXDUq/0SJ0SmQKBgQDX3fMxYnoSFvKr17hN\n"
    "c9TyD6fRgVDxll/dWnQzdGkHmYOTnwW7lm6wrO8YOiZv6CuaEYCkCiYqLOaGaom7\n"
    "JRCMGM2/tjk0PYBxUpaoDCXUGSJlPrQbc+ObnEpV44mjDuRFUK44WNcBURgfbGBQ\n"
    "Gxkf/OFRkUORA1EaxiPmQYBvawKBgQDRKHE89JhbqeUqzG1EnUF4cRJ3CtrjtwSP\n"
    "K9WiYwUN1c3DLMZhZuQab44bAJSQV0csbbO4eLrjLdkWoEOqgnDNVRrFqf6NKJlz\n"
    "CkmvbaYz2NqyeOoiMYtel5V26fTkztAtG+IWUO0AhSMzkBn9yENsorGaTeYQ5fAH\n"
    "7mQ/i+q17wKBgQCr81SBBhyOxFDRqahZqeb6WpYnQIclqc77F85wHk57i0FQGeAL\n"
    "KS1K9rYN6mQryBjTRRXflWYJOnL2p27G8CNaNXfPOmwevM7PdiYj/mkzpkHLvELj\n"
    "i1DG55wfBnzgskALJtVgdQPvPJWmkkG2DZ/Z5ynkO35CyQ2V8jcudwbDuQKBgB1a\n"
    "DJIeTSdH71YTPB5N5zssuwejqVYdf/FLmH5iYPoxD+Ac73YJx2cCUrHtYevjo6RT\n"
    "fM4dezSYYYewU+6gwY2/LLOiiItssCQZxH9u5s0N2JsFJu5Hf6R1p075xBk8ALDj\n"
    "4dV549iX1nnM9ijMKtIa/suFtQyYCBhE1yKn0vdXAoGBAL/UEt06F7ctqHXmMlNy\n"
    "htq0nhTImuoh13uMXa84kCTvr6hiyRb5jLtOO/ygDkbK+wZhja3C8oZpiAoaTGsc\n"
    "ZPBJYrhLMq7d9+kz11LUK7H769dGn31acxJCXbIbtgqGQXXpwcFEiMVjB1oJTOaw\n"
    "VzNBh4xcdixB+gpAgdd4AkqL\n"
    "-----END PRIVATE KEY-----\n";

static const char fuzz_ra_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDATCCAemgAwIBAgICEJIwDQYJKoZIhvcNAQELBQAwGDEWMBQGA1UEAwwNc2Nl\n"
    "cGQgZnV6eiBSQTAgFw0yNjExMjQxNzMxMjJaGA8yMTI2MTAzMTE3MzEyMlowGDEW\n"
    "MBQGA1UEAwwNc2NlcGQgZnV6eiBSQTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCC\n"
    "AQoCggEBALBeTbWvutzBJbEhH/7PXQQV7vBPmRMIfJYhoFBJ+adOXP1iTaMzb/Nu\n"
    "yGhb1enwz7UP/Sv3v70bTF/6Ch7CPYaSpp03XqgU4epyjheBIxZ7H9EGLd9/BemJ\n"
    "3idWlOTRy10pcnk0e9f2THcb6uhN9xjm0xZ7/JIJvyICLulCbtcD/h0tVRye4lmU\n"
    "iqQ//uo+4sHPDk6n+jMv1L/TLguqmzW9hDV5h7dApaOg2AbSP57iKIllgK6Vg9ex\n"
    "wHl7CUg2oDJ+xXT58vRTF+p8N7vK2AxqZMbfCPbUa/V+uVx7yHsDdUtsBeLP37VD\n"
    "YlVkSKNkrpFbJx66zdpEuQEjgOZ8q+UCAwEAAaNTMFEwHQYDVR0OBBYEFLHPMEHB\n"
    "BUsj0NBC5BWCqSZIQ6q7MB8GA1UdIwQYMBaAFLHPMEHBBUsj0NBC5BWCqSZIQ6q7\n"
    "MA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEBAGXjOFz3iwUnGNHn\n"
    "f6SZz4yHhsjRMk/xP0q4H0HFGAnoLmEB9nrKxT2G+UKBa8AjBHciPt91lwzfXo82\n"
    "TR3hJFlRNbP85FZBQa+MuuYdgBsA7/DMDyYcyOEMXBGoWlDxRrmzAoJ2/yZrDhXY\n"
    "Xl6GEPCCGirdBPCv7LmoClV9dh/yBAPr2b8hXsm+kIFjzAnsFhS7SZjKB77Y2Vd1\n"
    "PAMuBTeItVXXKqL+D7AIN9YIy5Tf/RB0eKBHZZ1t4IUjhbmv1U5feNXmQLiXe7xQ\n"
    "ux832XraZ8XJhxniXWWmoxtgKK6xI62N544RylLOVS88lrPiFAzmewoBS3kSJv8T\n"
    "KQQrQr8=\n"
    "-----END CERTIFICATE-----\n";

#endif /* !FUZZ_KEYS_H */
