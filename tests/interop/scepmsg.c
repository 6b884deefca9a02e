/*
 * scepmsg.c -- a small, independent SCEP client-side message tool for the
 * interop tests.  It builds pkiMessages the way real clients do and reads
 * CertRep replies, so the shell tests can drive scepd with curl and with
 * certmonger's standalone scep-submit helper.
 *
 * It deliberately shares no code with src/core: a second implementation
 * written from RFC 8894 is what makes an interop test worth having.
 *
 *   scepmsg req -t pkcsreq|renewalreq|certpoll|getcert|getcrl [-c CSR.pem]
 *       -s SIGNER.pem -k SIGNERKEY.pem -r RECIPIENT.pem
 *       [-e aes128|aes192|aes256|des3|des] [-d sha1|sha256|sha512|md5]
 *       [-x TXID] [-n NONCELEN] [-i CA.pem] [-S SERIALHEX] [-P] -o OUT
 *     Builds a PKCSReq (19), RenewalReq (17), CertPoll (20), GetCert (21)
 *     or GetCRL (22) message (RFC 8894 3.2, 3.3.1, 3.3.3, 3.3.4): the CSR
 *     (IssuerAndSubject for CertPoll, the issuer taken from -i;
 *     IssuerAndSerialNumber for GetCert and GetCRL, issuer from -i and the
 *     serial -S in hex) is enveloped for RECIPIENT with the given content
 *     cipher, then signed by SIGNER with the SCEP signed attributes.  -c
 *     is needed for the first three, and for the default transactionID.  -P writes PEM ("PKCS7" label, what scep-submit reads),
 *     else DER.  Prints "transactionID=..." and "senderNonce=<hex>" on
 *     stdout.  The default transactionID is the lower-case hex SHA-256 of
 *     the CSR's SubjectPublicKeyInfo, as jscep and strongSwan derive it.
 *
 *   scepmsg rep -i REPLY.der [-s SIGNER.pem -k SIGNERKEY.pem] [-C CA.pem]
 *       [-x TXID] [-N NONCEHEX] [-o CERT.pem] [-L CRL.pem] [-E ENV.der]
 *     Reads a CertRep (RFC 8894 3.3.2): verifies its signature (and the
 *     signer's chain to CA.pem when -C is given), prints the SCEP
 *     attributes as key=value lines, and on SUCCESS decrypts the envelope
 *     with SIGNER/SIGNERKEY and writes the issued certificate (the first
 *     one of the degenerate SignedData, spec 9.2) to CERT.pem, or, for a
 *     GetCRL reply, its CRL to CRL.pem (prints issuedCerts=N, crls=N).  -E saves
 *     the EnvelopedData DER so the caller can inspect its cipher.
 *
 * Exit status: 0 success, 1 bad input or a check that failed, 2 usage.
 */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/asn1t.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/cms.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

/* Largest reply or input file read; a CertRep is a few KiB. */
#define SCEPMSG_MAX_INPUT	(1024 * 1024)
/* RFC 8894 3.2.1.5: senderNonce is 16 bytes; we allow 8..32 for tests. */
#define NONCE_MIN	8
#define NONCE_MAX	32
#define NONCE_DEFAULT	16
/* Longest transactionID we print or accept on the command line. */
#define TXID_MAX	256

/* RFC 8894 3.2.1 (id-VeriSign 2.16.840.1.113733 .1.9.x) */
#define OID_MESSAGETYPE		"2.16.840.1.113733.1.9.2"
#define OID_PKISTATUS		"2.16.840.1.113733.1.9.3"
#define OID_FAILINFO		"2.16.840.1.113733.1.9.4"
#define OID_SENDERNONCE		"2.16.840.1.113733.1.9.5"
#define OID_RECIPIENTNONCE	"2.16.840.1.113733.1.9.6"
#define OID_TRANSACTIONID	"2.16.840.1.113733.1.9.7"
/* RFC 8894 3.2.1.4: id-scep-failInfoText */
#define OID_FAILINFOTEXT	"1.3.6.1.5.5.7.24.1"

/*
 * IssuerAndSubject ::= SEQUENCE { issuer Name, subject Name }
 * (RFC 8894 3.3.3, the messageData of CertPoll).
 */
struct issuer_and_subject {
	X509_NAME	*issuer;
	X509_NAME	*subject;
};
/* The one typedef: OpenSSL's ASN1 template macros need a bare type name. */
typedef struct issuer_and_subject ISSUER_AND_SUBJECT;
DECLARE_ASN1_FUNCTIONS(ISSUER_AND_SUBJECT)
ASN1_SEQUENCE(ISSUER_AND_SUBJECT) = {
	ASN1_SIMPLE(ISSUER_AND_SUBJECT, issuer, X509_NAME),
	ASN1_SIMPLE(ISSUER_AND_SUBJECT, subject, X509_NAME),
} ASN1_SEQUENCE_END(ISSUER_AND_SUBJECT)
IMPLEMENT_ASN1_FUNCTIONS(ISSUER_AND_SUBJECT)

static void
usage(void)
{
	fprintf(stderr,
	    "usage: scepmsg req -t pkcsreq|renewalreq|certpoll|getcert|getcrl "
	    "[-c CSR.pem]\n"
	    "           -s SIGNER.pem -k KEY.pem -r RECIPIENT.pem "
	    "[-e aes128|aes192|aes256|des3|des]\n"
	    "           [-d sha1|sha256|sha512|md5] [-x TXID] [-n NONCELEN] "
	    "[-i CA.pem] [-S SERIALHEX] [-P] -o OUT\n"
	    "       scepmsg rep -i REPLY.der [-s SIGNER.pem -k KEY.pem] "
	    "[-C CA.pem] [-x TXID]\n"
	    "           [-N NONCEHEX] [-o CERT.pem] [-L CRL.pem] "
	    "[-E ENV.der]\n");
}

/* Print the libcrypto error queue after our own message, then clear it. */
static void
warn_ssl(const char *what)
{
	fprintf(stderr, "scepmsg: %s\n", what);
	ERR_print_errors_fp(stderr);
	ERR_clear_error();
}

static X509 *
load_cert(const char *path)
{
	BIO	*b = NULL;
	X509	*x = NULL;

	if ((b = BIO_new_file(path, "r")) == NULL ||
	    (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL)
		fprintf(stderr, "scepmsg: %s: cannot read PEM certificate\n",
		    path);
	BIO_free(b);
	return x;
}

static EVP_PKEY *
load_key(const char *path)
{
	BIO		*b = NULL;
	EVP_PKEY	*k = NULL;

	if ((b = BIO_new_file(path, "r")) == NULL ||
	    (k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL)
		fprintf(stderr, "scepmsg: %s: cannot read PEM private key\n",
		    path);
	BIO_free(b);
	return k;
}

static X509_REQ *
load_csr(const char *path)
{
	BIO		*b = NULL;
	X509_REQ	*r = NULL;

	if ((b = BIO_new_file(path, "r")) == NULL ||
	    (r = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) == NULL)
		fprintf(stderr, "scepmsg: %s: cannot read PEM CSR\n", path);
	BIO_free(b);
	return r;
}

/*
 * Read at most SCEPMSG_MAX_INPUT bytes of "path" into a malloc'd buffer (*out,
 * take).  Returns 0, or -1 on error or when the file is larger.
 */
static int
read_file(const char *path, unsigned char **out, size_t *outlen)
{
	FILE		*f = NULL;
	unsigned char	*buf = NULL;
	size_t		 n;
	int		 rc = -1;

	*out = NULL;
	*outlen = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(stderr, "scepmsg: %s: %s\n", path, strerror(errno));
		goto out;
	}
	if ((buf = malloc(SCEPMSG_MAX_INPUT + 1)) == NULL)
		goto out;
	n = fread(buf, 1, SCEPMSG_MAX_INPUT + 1, f);
	if (ferror(f) || n > SCEPMSG_MAX_INPUT) {
		fprintf(stderr, "scepmsg: %s: unreadable or larger than %d "
		    "bytes\n", path, SCEPMSG_MAX_INPUT);
		goto out;
	}
	*out = buf;
	*outlen = n;
	buf = NULL;
	rc = 0;
 out:
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

static int
write_file(const char *path, const unsigned char *buf, size_t len)
{
	FILE	*f = NULL;
	int	 rc = -1;

	if ((f = fopen(path, "wb")) == NULL) {
		fprintf(stderr, "scepmsg: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fwrite(buf, 1, len, f) == len)
		rc = 0;
	if (fclose(f) != 0)
		rc = -1;
	if (rc != 0)
		fprintf(stderr, "scepmsg: %s: write failed\n", path);
	return rc;
}

static const EVP_CIPHER *
cipher_by_name(const char *name)
{
	if (strcmp(name, "aes128") == 0)
		return EVP_aes_128_cbc();
	if (strcmp(name, "aes192") == 0)
		return EVP_aes_192_cbc();
	if (strcmp(name, "aes256") == 0)
		return EVP_aes_256_cbc();
	if (strcmp(name, "des3") == 0)
		return EVP_des_ede3_cbc();
	if (strcmp(name, "des") == 0)
		return EVP_des_cbc();	/* needs the legacy provider */
	return NULL;
}

static const EVP_MD *
md_by_name(const char *name)
{
	if (strcmp(name, "sha1") == 0)
		return EVP_sha1();
	if (strcmp(name, "sha256") == 0)
		return EVP_sha256();
	if (strcmp(name, "sha512") == 0)
		return EVP_sha512();
	if (strcmp(name, "md5") == 0)
		return EVP_md5();
	return NULL;
}

static void
hex_encode(const unsigned char *in, size_t len, char *out, size_t outsz)
{
	static const char	 digits[] = "0123456789abcdef";
	size_t			 i;

	if (outsz == 0)
		return;
	for (i = 0; i < len && 2 * i + 2 < outsz; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0x0f];
	}
	out[2 * i] = '\0';
}

/*
 * Add one signed attribute.  H17: with a non-MBSTRING type a length of
 * -1 would mean "an ASN1_STRING *", so always pass the real length.
 */
static int
add_attr(CMS_SignerInfo *si, const char *oid, int type, const void *data,
    int len)
{
	ASN1_OBJECT	*obj = NULL;
	int		 rc = -1;

	if ((obj = OBJ_txt2obj(oid, 1)) == NULL)
		goto out;
	if (CMS_signed_add1_attr_by_OBJ(si, obj, type, data, len) != 1)
		goto out;
	rc = 0;
 out:
	ASN1_OBJECT_free(obj);
	return rc;
}

/* DER of the CMS ContentInfo (*out, take; OPENSSL_free). */
static int
cms_to_der(CMS_ContentInfo *cms, unsigned char **out, size_t *outlen)
{
	int	n;

	*out = NULL;
	n = i2d_CMS_ContentInfo(cms, out);
	if (n <= 0)
		return -1;
	*outlen = (size_t)n;
	return 0;
}

/* The default transactionID: hex SHA-256 of the request's SPKI. */
static int
default_txid(X509_REQ *csr, char *out, size_t outsz)
{
	X509_PUBKEY	*pub = NULL;
	unsigned char	*der = NULL;
	unsigned char	 md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 n, rc = -1;

	if ((pub = X509_REQ_get_X509_PUBKEY(csr)) == NULL)	/* get0 */
		goto out;
	if ((n = i2d_X509_PUBKEY(pub, &der)) <= 0)
		goto out;
	if (EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) != 1)
		goto out;
	hex_encode(md, mdlen, out, outsz);
	rc = 0;
 out:
	OPENSSL_free(der);
	return rc;
}

/*
 * GetCert and GetCRL (RFC 8894 3.3.4): IssuerAndSerialNumber, the issuer
 * from issuer_cert and the serial in hex (*out, take; OPENSSL_free).
 */
static int
issuer_and_serial(X509 *issuer_cert, const char *serialhex,
    unsigned char **out)
{
	PKCS7_ISSUER_AND_SERIAL	*is = NULL;
	BIGNUM			*bn = NULL;
	int			 n = -1;

	if (issuer_cert == NULL || serialhex == NULL) {
		fprintf(stderr, "scepmsg: getcert/getcrl need -i CA.pem and "
		    "-S SERIALHEX\n");
		return -1;
	}
	if (BN_hex2bn(&bn, serialhex) != (int)strlen(serialhex) ||
	    (is = PKCS7_ISSUER_AND_SERIAL_new()) == NULL)
		goto out;
	ASN1_INTEGER_free(is->serial);
	if ((is->serial = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	    X509_NAME_set(&is->issuer, X509_get_subject_name(issuer_cert)) ==
	    1)
		n = i2d_PKCS7_ISSUER_AND_SERIAL(is, out);
 out:
	BN_free(bn);
	PKCS7_ISSUER_AND_SERIAL_free(is);
	return n;
}

/*
 * The inner messageData: the CSR DER for PKCSReq/RenewalReq, the
 * IssuerAndSubject DER for CertPoll, IssuerAndSerialNumber for GetCert
 * and GetCRL (*out, take; OPENSSL_free).
 */
static int
message_data(int msgtype, X509_REQ *csr, X509 *issuer_cert,
    const char *serialhex, unsigned char **out, size_t *outlen)
{
	ISSUER_AND_SUBJECT	*ias = NULL;
	int			 n = -1;

	*out = NULL;
	if (msgtype == 21 || msgtype == 22) {
		n = issuer_and_serial(issuer_cert, serialhex, out);
	} else if (csr == NULL) {
		fprintf(stderr, "scepmsg: this message type needs -c CSR\n");
		return -1;
	} else if (msgtype != 20) {
		n = i2d_X509_REQ(csr, out);
	} else {
		if (issuer_cert == NULL) {
			fprintf(stderr, "scepmsg: certpoll needs -i CA.pem\n");
			return -1;
		}
		if ((ias = ISSUER_AND_SUBJECT_new()) == NULL)
			return -1;
		/* X509_NAME_set copies the names (get0 sources). */
		if (X509_NAME_set(&ias->issuer,
		    X509_get_subject_name(issuer_cert)) == 1 &&
		    X509_NAME_set(&ias->subject,
		    X509_REQ_get_subject_name(csr)) == 1)
			n = i2d_ISSUER_AND_SUBJECT(ias, out);
		ISSUER_AND_SUBJECT_free(ias);
	}
	if (n <= 0)
		return -1;
	*outlen = (size_t)n;
	return 0;
}

/* Write DER, or PEM with the "PKCS7" label scep-submit expects. */
static int
write_message(const char *path, const unsigned char *der, size_t len,
    int pem)
{
	BIO	*b = NULL;
	int	 rc = -1;

	if (!pem)
		return write_file(path, der, len);
	if (len > INT_MAX)
		return -1;
	if ((b = BIO_new_file(path, "w")) == NULL)
		goto out;
	if (PEM_write_bio(b, "PKCS7", "", der, (long)len) <= 0)
		goto out;
	rc = 0;
 out:
	if (rc != 0)
		fprintf(stderr, "scepmsg: %s: write failed\n", path);
	BIO_free(b);
	return rc;
}

static int
cmd_req(int argc, char **argv)
{
	const char		*type = NULL, *csrpath = NULL, *signpath = NULL;
	const char		*keypath = NULL, *recippath = NULL;
	const char		*ciphername = "aes128", *mdname = "sha256";
	const char		*txid = NULL, *outpath = NULL, *capath = NULL;
	const char		*serialhex = NULL;
	char			 txidbuf[2 * EVP_MAX_MD_SIZE + 1];
	char			 noncehex[2 * NONCE_MAX + 1];
	char			 msgtypestr[8];
	unsigned char		 nonce[NONCE_MAX];
	unsigned char		*data = NULL, *envder = NULL, *der = NULL;
	size_t			 datalen = 0, envlen = 0, derlen = 0;
	long			 noncelen = NONCE_DEFAULT;
	char			*end = NULL;
	int			 c, pem = 0, msgtype = 0, rc = 1;
	X509_REQ		*csr = NULL;
	X509			*signer = NULL, *recip = NULL, *ca = NULL;
	EVP_PKEY		*key = NULL;
	const EVP_CIPHER	*cipher = NULL;
	const EVP_MD		*md = NULL;
	STACK_OF(X509)		*recips = NULL;
	BIO			*in = NULL;
	CMS_ContentInfo		*env = NULL, *cms = NULL;
	CMS_SignerInfo		*si = NULL;

	while ((c = getopt(argc, argv, "t:c:s:k:r:e:d:x:n:i:S:Po:")) != -1) {
		switch (c) {
		case 'S': serialhex = optarg; break;
		case 't': type = optarg; break;
		case 'c': csrpath = optarg; break;
		case 's': signpath = optarg; break;
		case 'k': keypath = optarg; break;
		case 'r': recippath = optarg; break;
		case 'e': ciphername = optarg; break;
		case 'd': mdname = optarg; break;
		case 'x': txid = optarg; break;
		case 'i': capath = optarg; break;
		case 'P': pem = 1; break;
		case 'o': outpath = optarg; break;
		case 'n':
			errno = 0;
			noncelen = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' ||
			    noncelen < NONCE_MIN || noncelen > NONCE_MAX) {
				fprintf(stderr, "scepmsg: -n wants %d..%d\n",
				    NONCE_MIN, NONCE_MAX);
				return 2;
			}
			break;
		default:
			usage();
			return 2;
		}
	}
	if (type == NULL || (csrpath == NULL && txid == NULL) ||
	    signpath == NULL || keypath == NULL || recippath == NULL ||
	    outpath == NULL) {
		usage();
		return 2;
	}
	if (strcmp(type, "pkcsreq") == 0)
		msgtype = 19;
	else if (strcmp(type, "renewalreq") == 0)
		msgtype = 17;
	else if (strcmp(type, "certpoll") == 0)
		msgtype = 20;
	else if (strcmp(type, "getcert") == 0)
		msgtype = 21;
	else if (strcmp(type, "getcrl") == 0)
		msgtype = 22;
	if (msgtype == 0 || (cipher = cipher_by_name(ciphername)) == NULL ||
	    (md = md_by_name(mdname)) == NULL) {
		usage();
		return 2;
	}
	if (txid != NULL && strlen(txid) > TXID_MAX) {
		fprintf(stderr, "scepmsg: -x longer than %d\n", TXID_MAX);
		return 2;
	}

	if ((csrpath != NULL && (csr = load_csr(csrpath)) == NULL) ||
	    (signer = load_cert(signpath)) == NULL ||
	    (key = load_key(keypath)) == NULL ||
	    (recip = load_cert(recippath)) == NULL)
		goto out;
	if (capath != NULL && (ca = load_cert(capath)) == NULL)
		goto out;
	if (txid == NULL) {
		if (default_txid(csr, txidbuf, sizeof(txidbuf)) != 0) {
			warn_ssl("cannot hash the CSR public key");
			goto out;
		}
		txid = txidbuf;
	}
	if (RAND_bytes(nonce, (int)noncelen) != 1) {
		warn_ssl("RAND_bytes");
		goto out;
	}

	/* RFC 8894 3.2.2: pkcsPKIEnvelope, EnvelopedData for the CA/RA. */
	if (message_data(msgtype, csr, ca, serialhex, &data, &datalen) != 0) {
		warn_ssl("cannot encode messageData");
		goto out;
	}
	if ((recips = sk_X509_new_null()) == NULL ||
	    sk_X509_push(recips, recip) <= 0)
		goto out;
	if ((in = BIO_new_mem_buf(data, (int)datalen)) == NULL)
		goto out;
	if ((env = CMS_encrypt(recips, in, cipher, CMS_BINARY)) == NULL) {
		warn_ssl("CMS_encrypt");
		goto out;
	}
	if (cms_to_der(env, &envder, &envlen) != 0) {
		warn_ssl("i2d EnvelopedData");
		goto out;
	}

	/* RFC 8894 3.2: SignedData over the envelope, one signer. */
	if ((cms = CMS_sign(NULL, NULL, NULL, NULL,
	    CMS_PARTIAL | CMS_BINARY)) == NULL) {
		warn_ssl("CMS_sign");
		goto out;
	}
	if ((si = CMS_add1_signer(cms, signer, key, md,
	    CMS_BINARY | CMS_NOSMIMECAP | CMS_PARTIAL)) == NULL) {
		warn_ssl("CMS_add1_signer");
		goto out;
	}
	snprintf(msgtypestr, sizeof(msgtypestr), "%d", msgtype);
	if (add_attr(si, OID_MESSAGETYPE, V_ASN1_PRINTABLESTRING, msgtypestr,
	    (int)strlen(msgtypestr)) != 0 ||
	    add_attr(si, OID_TRANSACTIONID, V_ASN1_PRINTABLESTRING, txid,
	    (int)strlen(txid)) != 0 ||
	    add_attr(si, OID_SENDERNONCE, V_ASN1_OCTET_STRING, nonce,
	    (int)noncelen) != 0) {
		warn_ssl("cannot add SCEP signed attributes");
		goto out;
	}
	BIO_free(in);
	if ((in = BIO_new_mem_buf(envder, (int)envlen)) == NULL)
		goto out;
	if (CMS_final(cms, in, NULL, CMS_BINARY) != 1) {
		warn_ssl("CMS_final");
		goto out;
	}
	if (cms_to_der(cms, &der, &derlen) != 0) {
		warn_ssl("i2d SignedData");
		goto out;
	}
	if (write_message(outpath, der, derlen, pem) != 0)
		goto out;
	hex_encode(nonce, (size_t)noncelen, noncehex, sizeof(noncehex));
	printf("transactionID=%s\nsenderNonce=%s\n", txid, noncehex);
	rc = 0;
 out:
	sk_X509_free(recips);	/* the certificate is freed below */
	BIO_free(in);
	CMS_ContentInfo_free(env);
	CMS_ContentInfo_free(cms);
	OPENSSL_free(data);
	OPENSSL_free(envder);
	OPENSSL_free(der);
	X509_REQ_free(csr);
	X509_free(signer);
	X509_free(recip);
	X509_free(ca);
	EVP_PKEY_free(key);
	return rc;
}

/*
 * Value of a single-valued signed attribute as a string.  Prints the
 * value's ASN.1 type into *type (V_ASN1_*).  Returns the borrowed
 * ASN1_STRING or NULL when the attribute is absent or not a string.
 */
static const ASN1_STRING *
get_attr(CMS_SignerInfo *si, const char *oid, int *type)
{
	ASN1_OBJECT	*obj = NULL;
	X509_ATTRIBUTE	*attr = NULL;
	ASN1_TYPE	*val = NULL;
	int		 idx;

	*type = -1;
	if ((obj = OBJ_txt2obj(oid, 1)) == NULL)
		return NULL;
	idx = CMS_signed_get_attr_by_OBJ(si, obj, -1);
	ASN1_OBJECT_free(obj);
	if (idx < 0)
		return NULL;
	if ((attr = CMS_signed_get_attr(si, idx)) == NULL)	/* get0 */
		return NULL;
	if (X509_ATTRIBUTE_count(attr) != 1)
		return NULL;
	if ((val = X509_ATTRIBUTE_get0_type(attr, 0)) == NULL)
		return NULL;
	*type = val->type;
	switch (val->type) {
	case V_ASN1_PRINTABLESTRING:
	case V_ASN1_UTF8STRING:
	case V_ASN1_IA5STRING:
	case V_ASN1_OCTET_STRING:
		return val->value.asn1_string;
	default:
		return NULL;
	}
}

/* Print "name=value" for a string attribute; returns 1 when present. */
static int
print_str_attr(CMS_SignerInfo *si, const char *oid, const char *name,
    char *copy, size_t copysz, int *all_printable)
{
	const ASN1_STRING	*s;
	int			 type, len;

	if (copysz > 0)
		copy[0] = '\0';
	if ((s = get_attr(si, oid, &type)) == NULL) {
		if (type != -1)
			*all_printable = 0;
		return 0;
	}
	if (type != V_ASN1_PRINTABLESTRING)
		*all_printable = 0;
	len = ASN1_STRING_length(s);
	if (len < 0 || (size_t)len >= copysz)
		len = copysz > 0 ? (int)copysz - 1 : 0;
	memcpy(copy, ASN1_STRING_get0_data(s), (size_t)len);
	copy[len] = '\0';
	printf("%s=%s\n", name, copy);
	return 1;
}

/* Print "name=<hex>" and "<name>Len=N" for an OCTET STRING attribute. */
static int
print_hex_attr(CMS_SignerInfo *si, const char *oid, const char *name,
    char *hex, size_t hexsz)
{
	const ASN1_STRING	*s;
	int			 type, len;

	hex[0] = '\0';
	if ((s = get_attr(si, oid, &type)) == NULL ||
	    type != V_ASN1_OCTET_STRING)
		return 0;
	len = ASN1_STRING_length(s);
	if (len < 0)
		return 0;
	hex_encode(ASN1_STRING_get0_data(s), (size_t)len, hex, hexsz);
	printf("%s=%s\n%sLen=%d\n", name, hex, name, len);
	return 1;
}

/*
 * Decrypt the SUCCESS envelope and write the first certificate of the
 * degenerate SignedData to certpath (spec 9.2: the issued one first), or
 * its first CRL to crlpath (a GetCRL reply, RFC 8894 3.3.2.2).
 */
static int
open_envelope(const unsigned char *env, size_t envlen, X509 *signer,
    EVP_PKEY *key, const char *certpath, const char *crlpath)
{
	BIO		*out = NULL, *cb = NULL;
	CMS_ContentInfo	*ecms = NULL, *degen = NULL;
	STACK_OF(X509)	*certs = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	const unsigned char *p = NULL;
	char		*inner = NULL;
	long		 innerlen;
	int		 rc = -1;

	if (envlen > INT_MAX)
		goto out;
	p = env;
	if ((ecms = d2i_CMS_ContentInfo(NULL, &p, (long)envlen)) == NULL ||
	    p != env + envlen) {
		warn_ssl("pkcsPKIEnvelope is not one CMS ContentInfo");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(ecms)) != NID_pkcs7_enveloped) {
		fprintf(stderr, "scepmsg: pkcsPKIEnvelope is not "
		    "EnvelopedData\n");
		goto out;
	}
	if ((out = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	if (CMS_decrypt(ecms, key, signer, NULL, out, CMS_BINARY) != 1) {
		warn_ssl("CMS_decrypt");
		goto out;
	}
	innerlen = BIO_get_mem_data(out, &inner);
	if (innerlen <= 0)
		goto out;
	p = (const unsigned char *)inner;
	if ((degen = d2i_CMS_ContentInfo(NULL, &p, innerlen)) == NULL ||
	    OBJ_obj2nid(CMS_get0_type(degen)) != NID_pkcs7_signed) {
		warn_ssl("envelope content is not a degenerate SignedData");
		goto out;
	}
	certs = CMS_get1_certs(degen);
	crls = CMS_get1_crls(degen);
	printf("issuedCerts=%d\ncrls=%d\n", sk_X509_num(certs),
	    sk_X509_CRL_num(crls));
	if (crlpath != NULL) {
		if (sk_X509_CRL_num(crls) < 1) {
			fprintf(stderr, "scepmsg: degenerate SignedData has "
			    "no CRL\n");
			goto out;
		}
		if ((cb = BIO_new_file(crlpath, "w")) == NULL ||
		    PEM_write_bio_X509_CRL(cb, sk_X509_CRL_value(crls, 0)) !=
		    1) {
			fprintf(stderr, "scepmsg: %s: write failed\n",
			    crlpath);
			goto out;
		}
		rc = 0;
		goto out;
	}
	if (sk_X509_num(certs) < 1) {
		fprintf(stderr, "scepmsg: degenerate SignedData has no "
		    "certificate\n");
		goto out;
	}
	if (certpath != NULL) {
		if ((cb = BIO_new_file(certpath, "w")) == NULL ||
		    PEM_write_bio_X509(cb, sk_X509_value(certs, 0)) != 1) {
			fprintf(stderr, "scepmsg: %s: write failed\n",
			    certpath);
			goto out;
		}
	}
	rc = 0;
 out:
	BIO_free(out);
	BIO_free(cb);
	CMS_ContentInfo_free(ecms);
	CMS_ContentInfo_free(degen);
	sk_X509_pop_free(certs, X509_free);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	return rc;
}

static int
cmd_rep(int argc, char **argv)
{
	const char		*inpath = NULL, *signpath = NULL;
	const char		*keypath = NULL, *capath = NULL;
	const char		*txid = NULL, *noncehex = NULL;
	const char		*certpath = NULL, *envpath = NULL;
	const char		*crlpath = NULL;
	char			 status[16], msgtype[16], failinfo[16];
	char			 failtext[512], rtxid[TXID_MAX + 1];
	char			 rnonce[2 * NONCE_MAX + 1];
	char			 snonce[2 * NONCE_MAX + 1];
	unsigned char		*buf = NULL;
	char			*content = NULL;
	size_t			 buflen = 0;
	long			 contentlen = 0;
	int			 c, flags, all_printable = 1, rc = 1;
	int			 text_printable = 1;
	int			 econtent;
	const unsigned char	*p = NULL;
	X509			*signer = NULL, *ca = NULL;
	X509_ALGOR		*digalg = NULL;
	EVP_PKEY		*key = NULL;
	X509_STORE		*store = NULL;
	CMS_ContentInfo		*cms = NULL;
	STACK_OF(CMS_SignerInfo) *sis = NULL;
	CMS_SignerInfo		*si = NULL;
	ASN1_OCTET_STRING	**pos = NULL;
	BIO			*out = NULL, *dcont = NULL;

	while ((c = getopt(argc, argv, "i:s:k:C:x:N:o:L:E:")) != -1) {
		switch (c) {
		case 'L': crlpath = optarg; break;
		case 'i': inpath = optarg; break;
		case 's': signpath = optarg; break;
		case 'k': keypath = optarg; break;
		case 'C': capath = optarg; break;
		case 'x': txid = optarg; break;
		case 'N': noncehex = optarg; break;
		case 'o': certpath = optarg; break;
		case 'E': envpath = optarg; break;
		default:
			usage();
			return 2;
		}
	}
	if (inpath == NULL || (signpath == NULL) != (keypath == NULL)) {
		usage();
		return 2;
	}
	if (read_file(inpath, &buf, &buflen) != 0)
		goto out;
	if (signpath != NULL && ((signer = load_cert(signpath)) == NULL ||
	    (key = load_key(keypath)) == NULL))
		goto out;
	if (capath != NULL && (ca = load_cert(capath)) == NULL)
		goto out;

	/* RFC 8894 3.3.2: a CertRep is a CMS SignedData, one signer. */
	p = buf;
	if ((cms = d2i_CMS_ContentInfo(NULL, &p, (long)buflen)) == NULL ||
	    p != buf + buflen) {
		warn_ssl("reply is not exactly one CMS ContentInfo");
		goto out;
	}
	if (OBJ_obj2nid(CMS_get0_type(cms)) != NID_pkcs7_signed) {
		fprintf(stderr, "scepmsg: reply is not SignedData\n");
		goto out;
	}
	if ((sis = CMS_get0_SignerInfos(cms)) == NULL ||
	    sk_CMS_SignerInfo_num(sis) != 1) {
		fprintf(stderr, "scepmsg: reply does not have one signer\n");
		goto out;
	}
	si = sk_CMS_SignerInfo_value(sis, 0);

	/*
	 * Spec 9.3: FAILURE and PENDING carry no eContent; the signature is
	 * then over zero-length content, which CMS_verify only accepts as
	 * detached content.  Report which form the server used.
	 */
	pos = CMS_get0_content(cms);
	if (pos == NULL || *pos == NULL) {
		econtent = 0;
		if ((dcont = BIO_new_mem_buf("", 0)) == NULL)
			goto out;
	} else
		econtent = ASN1_STRING_length(*pos) > 0 ? 2 : 1;
	printf("eContent=%s\n", econtent == 0 ? "absent" :
	    econtent == 1 ? "empty" : "present");

	if ((out = BIO_new(BIO_s_mem())) == NULL)
		goto out;
	flags = CMS_BINARY;
	if (ca != NULL) {
		if ((store = X509_STORE_new()) == NULL ||
		    X509_STORE_add_cert(store, ca) != 1 ||
		    X509_STORE_set_purpose(store, X509_PURPOSE_ANY) != 1)
			goto out;
	} else
		flags |= CMS_NO_SIGNER_CERT_VERIFY;
	if (CMS_verify(cms, NULL, store, dcont, out, flags) != 1) {
		printf("signature=bad\n");
		warn_ssl("CertRep signature does not verify");
		goto out;
	}
	printf("signature=%s\n", ca != NULL ? "verified-chain" : "verified");

	CMS_SignerInfo_get0_algs(si, NULL, NULL, &digalg, NULL);
	if (digalg != NULL)
		printf("digest=%s\n", OBJ_nid2sn(OBJ_obj2nid(digalg->algorithm)));

	print_str_attr(si, OID_MESSAGETYPE, "messageType", msgtype,
	    sizeof(msgtype), &all_printable);
	print_str_attr(si, OID_PKISTATUS, "pkiStatus", status,
	    sizeof(status), &all_printable);
	print_str_attr(si, OID_FAILINFO, "failInfo", failinfo,
	    sizeof(failinfo), &all_printable);
	print_str_attr(si, OID_TRANSACTIONID, "transactionID", rtxid,
	    sizeof(rtxid), &all_printable);
	/* failInfoText is a UTF8String (RFC 8894 3.2.1.4.1): not counted. */
	print_str_attr(si, OID_FAILINFOTEXT, "failInfoText", failtext,
	    sizeof(failtext), &text_printable);
	printf("attrsPrintable=%s\n", all_printable ? "yes" : "no");
	print_hex_attr(si, OID_SENDERNONCE, "senderNonce", snonce,
	    sizeof(snonce));
	print_hex_attr(si, OID_RECIPIENTNONCE, "recipientNonce", rnonce,
	    sizeof(rnonce));
	if (txid != NULL)
		printf("txidMatch=%s\n", strcmp(txid, rtxid) == 0 ?
		    "yes" : "no");
	if (noncehex != NULL)
		printf("recipientNonceMatch=%s\n",
		    strcmp(noncehex, rnonce) == 0 ? "yes" : "no");

	if (strcmp(status, "0") == 0) {
		contentlen = BIO_get_mem_data(out, &content);
		if (contentlen <= 0) {
			fprintf(stderr, "scepmsg: SUCCESS without envelope\n");
			goto out;
		}
		if (envpath != NULL && write_file(envpath,
		    (unsigned char *)content, (size_t)contentlen) != 0)
			goto out;
		if (signer != NULL && open_envelope((unsigned char *)content,
		    (size_t)contentlen, signer, key, certpath, crlpath) != 0)
			goto out;
	}
	rc = 0;
 out:
	free(buf);
	BIO_free(out);
	BIO_free(dcont);
	X509_STORE_free(store);
	CMS_ContentInfo_free(cms);
	X509_free(signer);
	X509_free(ca);
	EVP_PKEY_free(key);
	return rc;
}

int
main(int argc, char **argv)
{
	OSSL_PROVIDER	*legacy = NULL, *deflt = NULL;
	int		 rc;

	if (argc < 2) {
		usage();
		return 2;
	}
	/*
	 * Single DES lives in OpenSSL 3's legacy provider; loading it is
	 * what lets the tests play a legacy client.  Loading any provider
	 * explicitly disables the implicit default one, so load both.
	 */
	legacy = OSSL_PROVIDER_load(NULL, "legacy");
	deflt = OSSL_PROVIDER_load(NULL, "default");
	ERR_clear_error();
	if (deflt == NULL) {
		fprintf(stderr, "scepmsg: cannot load the default provider\n");
		return 1;
	}
	optind = 1;
	if (strcmp(argv[1], "req") == 0)
		rc = cmd_req(argc - 1, argv + 1);
	else if (strcmp(argv[1], "rep") == 0)
		rc = cmd_rep(argc - 1, argv + 1);
	else {
		usage();
		rc = 2;
	}
	fflush(stdout);
	if (legacy != NULL)
		OSSL_PROVIDER_unload(legacy);
	OSSL_PROVIDER_unload(deflt);
	return rc;
}
