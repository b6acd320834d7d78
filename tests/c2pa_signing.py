"""Throwaway C2PA credentials for tests: a root CA and ES256 signers made with ``cryptography``,
and c2pa-python's Builder to sign clips. Nothing here is trusted anywhere but in the tests."""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import c2pa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"
PEM = serialization.Encoding.PEM


def _name(common_name: str, org: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
        ]
    )


def _usage(*, sign_certs: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not sign_certs,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=sign_certs,
        crl_sign=sign_certs,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class Credentials:
    chain_pem: bytes
    key_pem: bytes

    def signer(self) -> c2pa.Signer:
        info = c2pa.C2paSignerInfo(
            alg=b"es256", sign_cert=self.chain_pem, private_key=self.key_pem, ta_url=None
        )
        return c2pa.Signer.from_info(info)


class TestCA:
    """A root CA; ``write(folder)`` gives the PEM file to name as a trust anchor."""

    __test__ = False  # not a pytest class

    def __init__(self, org: str = "Verity Test Root"):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(org, org))
            .issuer_name(_name(org, org))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=30))
            .not_valid_after(now + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_usage(sign_certs=True), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )

    def write(self, folder: Path) -> Path:
        path = Path(folder) / "test-root.pem"
        path.write_bytes(self.cert.public_bytes(PEM))
        return path

    def issue(
        self, org: str = "Newsroom Test Signer", valid_for: dt.timedelta = dt.timedelta(days=365)
    ) -> Credentials:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(f"{org} signing", org))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + valid_for)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(sign_certs=False), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return Credentials(cert.public_bytes(PEM) + self.cert.public_bytes(PEM), key_pem)


def manifest(generator: str, action: str | None, source_type: str | None = None) -> dict:
    """A manifest definition; with no ``action`` the builder records the opening of the parent
    ingredient itself (``c2pa.opened``, linked to it)."""
    assertions = []
    if action:
        entry = {"action": action, "softwareAgent": {"name": generator}}
        if source_type:
            entry["digitalSourceType"] = IPTC + source_type
        assertions.append({"label": "c2pa.actions.v2", "data": {"actions": [entry]}})
    return {
        "claim_generator_info": [{"name": generator, "version": "1.0"}],
        "title": "clip",
        "assertions": assertions,
    }


def sign(
    source: Path,
    target: Path,
    credentials: Credentials,
    definition: dict,
    parent: Path | None = None,
) -> Path:
    """Sign ``source`` into ``target``; ``parent`` becomes its parentOf ingredient."""
    mime = "video/quicktime" if source.suffix == ".mov" else "video/mp4"
    context = c2pa.Context.from_dict({"builder": {"thumbnail": {"enabled": False}}})
    with c2pa.Builder(definition, context=context) as builder:
        if parent is not None:
            builder.set_intent(c2pa.C2paBuilderIntent.EDIT)  # records c2pa.opened of the parent
            with open(parent, "rb") as stream:
                builder.add_ingredient(
                    {"title": parent.name, "relationship": "parentOf"}, mime, stream
                )
        with open(source, "rb") as src, open(target, "w+b") as dst:
            builder.sign(credentials.signer(), mime, src, dst)
    return target
