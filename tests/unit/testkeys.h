/*
 * testkeys.h -- fixed test keys (generated once with `openssl genpkey`;
 * never used outside tests).  Fixed keys keep the unit tests fast and the
 * saved vectors in tests/vectors/ decryptable.
 */
#ifndef TESTKEYS_H
#define TESTKEYS_H

static const char testkey_ra_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDLVrxaAxIRhI5X\n"
    "DguFm3zf5KDnuUUmZXmXDyulQE5F6xWCPX53CA2i1Y3f4XnS8dRN/FeZXW+FPxIn\n"
    "TAhbCs8E7MmxR7BZVJhTeV8IHEL8VuffsVEMI+/t4BON2es4+d8+ZHdAuII1JcoF\n"
    "V9Xr1HAsTzBPF00jMHfBkSTEZwHV5DSmgDzUwYMa5GH8ixAO+nbRa9Hh8LXoFgft\n"
    "cKDS+JwrerJJrxKt+RLzmkKCXRvYQOSGUAQXWH5+qkgcYZ6/hrTyHayTMbosCr6c\n"
    "WqYl5+hM5j/Bgtr/KKSW9u142oGmkxPQd0FHPs0gJNONDxN7S8dGmmQwUXhsyA0j\n"
    "li4iSZ9FAgMBAAECggEAC3AdFzkd/pNEyHvXRRQ6gYOkU3SWAbNqlAc77sc/v+oZ\n"
    "4yIfZ4Wx8qttmB7gUe/df+eGa++YEtg55rD9tVVV0NKbA9hjAJtkGCn3IQcp83TW\n"
    "BTy9sN+iovBcWTndY+6WUrWnCaJ3XJL8GrHWrDXee3eW4ZQPeD/FNMO73DppHYVn\n"
    "j5NLNobjWzWGI3T8QWC3s4XfT4oUnZg9syGv/1ww+wUoZDqO5QScDE7ZPfSqjavw\n"
    "iFrXQDBwYaQSOJkRyms/9aGWWeqFbZytccimsMEtLQI9sQ53UyHMHorsSSefmWN0\n"
    "niIrUEtqqDz4TbMwEGmFi2PawOv4hVSk95DAm1fbMQKBgQDlw2Tx+UH4pHMekyYU\n"
    "CtrTAb3HVTzlKm1FxSQacPH1xjeZm9oJyK6Uu1s2AyoX/duB6IHvqKjwvz/7D6gZ\n"
    "ioHoXoEQCJu5ut0f84CZzIqj1JOiZ6mvTiRQtlNWI29migSbHM71Bj/+PJc/u5M1\n"
    "T2V34sZBVp/P7uVPjKA12VXESQKBgQDijuIEWdeIX2VUbSulFWHHR5ofbFmHgGLY\n"
    "E0zl3PX+rVV4WBL4DPFBOFuNMAGkCJxM02ODS5qlhrf7aIHwdkHY+vlIp41m026d\n"
    "NDdhfgEoH+S1N/ML2GHiULdk6bgigaBaPrse10mrq7ZfPQ0NzVj/XRClNaeyeHUs\n"
    "nSA/mIlLHQKBgHj+fJoweN1HPJhNRTAoxzN3J0lhScAkp4amWmzSLZkP2Re7Swb7\n"
    "93O7djzrTa90r7OpjUN3vf+Jt1eu1wccOWz012JqJheYn/nDcWWMoTXFLDnJ/UGk\n"
    "FNusKBakcnW9GM/WS+YcdHad0chuLwdT2EtZ0K13wJDvbTKHC5dP7CqBAoGAFIYf\n"
    "IYfGB7ukoVZWetkKB5SL+MbHAYh2694rvDMdMdogAQvxg/kgLeleGdc8ftCs4CTS\n"
    "QgWqV85xglwAUXlVE8QAqz1KiQMkZSdi0PkqP6lL/cK4yNzsWSU4x/KIVM/rZ+GA\n"
    "8BVOvjeLCOut8A8nPdL/fAf1TiytaMI/NqOp5F0CgYB17xKVDBjgc2wgL/EiFwcQ\n"
    "7jJ+/s8C51Vg/yTiKcps5HhtgGWc5fOVHN1wnkAIvbnbWE3DFd8S1SoNeFdgiVW6\n"
    "8wk6mfNtHXY+z/Dzfaq9rCJ1wpxVLT2Ukyux7rftxHZGmjTirGhG1gnC8amJkTXt\n"
    "PD5hhH+nmmPS/R54RxD8BA==\n"
    "-----END PRIVATE KEY-----\n";

static const char testkey_client_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDUWGzrlur2x237\n"
    "urGx9smzowc+99WieblI0Fau12R8iV06gPFb59CdnU55Z70wYbP0GNVn250X8nda\n"
    "wxB8LuTyA6B5FDovqYQWIt3QOULMMxzbGQs4pr+xDr7T9eHXGYJ9mbt/MtC49iJZ\n"
    "eXRvP0QYUswGEnVQBqO+EcWxn92O3BLnUwv9WqWgE4mM/aoEx6tX1zQaSVYMHPWl\n"
    "CPGlPjbdKx1XDLU25eNnn541EB2vQoQcgnqLkMPclpBGHLyUhavkfXqHbwX3Seyy\n"
    "81A2IFXCqudQ/dKqOqhw5qY3CAT4Y4Lmk/rsTfe6pxkssMD1LBf5nz2tqgyEELCV\n"
    "+aABfvzbAgMBAAECggEABTz2guFC2TpA26LWsKiBKpiXnIAJ7xYdnKQ3Cd0aXNAZ\n"
    "UqYiThLBMgIoEL/0X3XUNe30Ow750xYSHP+5hQwLGG/qd3zTlUq94rs9dDOAEwAi\n"
    "csKCulpdWYV0Q6T0deqVLiVVW2U/gjCK1wuInxiVGhyAwphAo0FmrKZM6tLMvly3\n"
    "5fV5Q9VuGwL9p5ubGv7VJQDmfEQp/1dLV3Gc1NliScqsVAk3DoebaH6d8E9dCQHb\n"
    "rW9xz+Mf5JAIH6eNn2u0VkK73k5cpXvO3ZSzt/xQVMthw1OPWNZP5IgifO8oBuf7\n"
    "4KI/Ba6qBWNHiKF3M9MiZEbL8p9O8kwl0Gdkc7bAAQKBgQD5SW1Wp4tr15H4cYD2\n"
    "EJMaoAlhgrc+shHScVZhbnwO/rWIXZFcmPSCqTHbsHERlyhtFpjQvNpkjeEYlmXo\n"
    "JyYzIcmZrsliZc1y7NJYVqbIspOYzaPmAmu3iLovtZux7NNV7glPxkWhnidsqlwF\n"
    "eCbJsEr/u42x0MfFf53JIcLM2wKBgQDaEFNo6KYQb8MEtsmnZtxlCgiZS6uzxlyh\n"
    "+gMsRj4fV9CPy4bkHISnWiLYHjnpg9mV68P9T6wqyNyhOVG0mlhv5gDr+i5Njj9M\n"
    "DfuaVlaO5KSSmON6KHFmDumVRHYzeIGxyCwijmHneAfQoJN3MXyq9kVSTn5+jMpu\n"
    "blDvnNOQAQKBgHoHQJenom8i8liMr1VEnc3tw0nRZAQzxNegFWnSXLY2ZwSe0PZk\n"
    "BWUkj7x77Y1v0iE8a4fauol4jlSr4qy25VMoWfh6ACjDrsNwPDN0D2a1S90D5RRF\n"
    "4RbRvlp2awW46WbqA/LiGtnXgnMGHc+rlkkqnDv9QoplqjT6mHGJrkL7AoGAeEX2\n"
    "628eYQRzqP70fGuEdgoxsfOFsbNf1ksiQuI/U2RI+XbFYL3GANP7Uf5h7MU3VrRi\n"
    "Ni4ihLqizh3iTd2vl5Bhw8YKkeY6TUWNF5Q1S70adGz1UqRJ34OsHBNVqo/14MvK\n"
    "ZAjqQRP4I37dtylJXLZWh84ZgM1AveYEqBR0sAECgYA0N99//YJZO/zGdFB2V5xh\n"
    "BLtk8IBSA6BNFseDh++ByS+kDEDlWFLWAHUy6nbNNqL1X5ThWo5GAOOsOBTRNbAw\n"
    "y0XRLi47Bqxwyjmq+Hsl6nvbzFxEdUwWT00m6g7lVzMqbs3nlaRQ7yFiDZEvLdGG\n"
    "KpD9DtjCnQ8ktpGqbOQm3w==\n"
    "-----END PRIVATE KEY-----\n";

static const char testkey_other_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEugIBADANBgkqhkiG9w0BAQEFAASCBKQwggSgAgEAAoIBAQC3RfaEN/Kagfj4\n"
    "gZS/Kz2PLY5laMBO7PTGKqa9Z9Ul2bQcjL2/ytN0OyQ12LayZ/sByn0Gk99LDF69\n"
    "rsti3YOatGTrHEScScboB/q+9WBJM5u7tIWYj9m7gT/MSdYpO7JSU/6u+9M7SBPI\n"
    "oFYzxv/rXXG2vdSNzf3gObk2CBIQsJjYov5UuFDcEcYzWw3a4wppywRy8TA8Rsvt\n"
    "/KqzomOTKAfqwy3aYKALsoInCL0SY00o/MZXCAXegG/Z+B6hcj0phFJT3jUSi7rp\n"
    "t6Ms76PLX+PSxbtfAozDTpAzJWyoi5M/OyUJpEm6SVS5nPQfPyH09e751MKo51Jc\n"
    "SvavgflnAgMBAAECggEAByqdMR5e8Nu+4zjDRZZomdNWNhuaftDqjAqEP/PHdJYc\n"
    "DOG+qblB+3w0i5vQc7l31IzDxstmzTB2o+7Uf9Eu9uWxlzVLxDC+WQ8MJwYWoHDR\n"
    "g3go9oY+0AOF0x8wA1IU7v3fKkh+l1rXgIjZ1hHPVWIaCDieuczMQ0WpOwulvoaY\n"
    "Uq6lyY0CnA+j10sD3i9NnhZttyFrrpl8e0X5r7kY5Ed5JjjxjrZjEyhUvRMVm8sK\n"
    "0R5Qy7834qLmQkZWAi2WwurshIdKs5uqWgKpvlpgJjtqN/OaXoN8FrR1p5hEE6o5\n"
    "KHd5U++ysdrU7Xi/8tXJlhe3DxADpKFuUjJrCN8MQQKBgQDjx4QKem51pM8dTEEg\n"
    "TJ4ryKYDpWjzHqT9CjDazn3/U2Jp+riWleuUCGfp0Igt0d6C0sLEMu6WTtLF9T4N\n"
    "D38UinZzYxR2HK7VzkbHywLdzBtxNB1UXGKRakrmMUqEot0qL7/3v4PPqt3TVvXF\n"
    "akUKk2Yz9wbrvuMdfbw7G6MUgwKBgQDN+tjYZRBu9HA43Ab3BqBk4kWnzmrr3XLh\n"
    "3FuzFq3JeQJYG4Um4rKrsStwGx12DqOQYZF1jEGQaIHi6qlCAGiK3klVAXTYPnvd\n"
    "4WZb8m3a+y6PDbF+geguAmIQKX0JdgA+K2OOLlHlQowgY68qWl1HefByrNpbHKgB\n"
    "5JxUKAqaTQKBgEkATKU/D9/MbkSph8XeSGMn720DulsQ2zft6DJ4M5F9G/FzVW2N\n"
    "pu7Ost8Q4lQtCu9KtPlEiYrKwGqJatWsvcHLjqL0gj5IexAzCCRIQCbtn23skenT\n"
    "ohOQyWh1K7jOqas3moLAcnJABNAS8rnOkUoOa5cD+MfdadSt04HuHZoZAn8XVVM7\n"
    "MDesWgRcbJBda2LACuHZIIj8LxnUfCHnJ6qIKC0bzgJHZWbYDDnfeTLdLMtaj7Lq\n"
    "nfjPYwdTrUF/OIyfLo8gEgoqdOmTOPVfdRb8t3eOvP5eVlj23U4+hnSjnbppUID2\n"
    "mkisr90vzhsJsTLf5fBXDT2vFI/zpvIOlnqdAoGAN8CPEezGGwopV6c/+fBWMVOV\n"
    "FKR4jLqMOkyqyDTmh/KqYYxXdM3sqTSVUVnK4XBJ0OyDyqOlEib2yXiYqnuq/OBD\n"
    "CaZ9O9JUWyHbr4G8WvxiP70XOPPmGa1m7wRCrmhBpCilzcHl/SMfpEHWgnMGrv/7\n"
    "b6ZKc8HkUKTOzq3ucHo=\n"
    "-----END PRIVATE KEY-----\n";

static const char testkey_ec256_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQglLFw9NTwMZ987her\n"
    "yg+6tXS64DnUrGSKpQ8/hFadIbyhRANCAASZuy4s/9Xo3rGn6Ej8AzomCxgbnoBf\n"
    "9L72Pk/ESC+b8XpSOshcfGCq4Ec9LW+++gAm/ZTZpb/6JIv/caQG4GzZ\n"
    "-----END PRIVATE KEY-----\n";

static const char testkey_ec384_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDCRHGxT231VeMT7y+q1\n"
    "uQefjWDOtqXOavr3sdGYVKSybuF5UnMVfFvtr/PbwzF3tqahZANiAARnQgp3uyRh\n"
    "8RJ+lu7iZFzD1k0yeDdqGlJBM9tf1XZg6ShYVlQ32seT3JPhHDvAqaSnbecvAj7m\n"
    "1YWJzRSKi32JmGGF0G735LstCOXnEpnbcceYQYVKUQtOqxsSP+Bf3W8=\n"
    "-----END PRIVATE KEY-----\n";

#endif /* !TESTKEYS_H */
