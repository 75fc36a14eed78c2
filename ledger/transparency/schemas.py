import base64

from marshmallow import Schema, fields

from receipts.signing import load_public_key, public_key_pem

from .log import note_verifier_key


def b64(data: bytes) -> str:
    """Standard base64, as checkpoints and RFC 9162 tools write hashes."""
    return base64.b64encode(bytes(data)).decode("ascii")


class KeyOut(Schema):
    key_id = fields.String()
    algorithm = fields.String()
    public_key = fields.String(metadata={"description": "the raw 32-byte Ed25519 key, base64url"})
    public_key_pem = fields.Function(lambda k: public_key_pem(load_public_key(k.public_key)))
    note_verifier_key = fields.Function(
        lambda k: note_verifier_key(load_public_key(k.public_key)),
        metadata={"description": "for checkpoints: C2SP signed-note verifier key (Go's note.NewVerifier)"})
    status = fields.Function(lambda k: "retired" if k.retired_at else "active")
    created_at = fields.DateTime()
    retired_at = fields.DateTime(allow_none=True)


class KeysOut(Schema):
    origin = fields.String(metadata={"description": "the log's name, first line of each checkpoint"})
    keys = fields.List(fields.Nested(KeyOut))


class CheckpointQuery(Schema):
    size = fields.Integer(metadata={"description": "a stored checkpoint of this size; none: the latest"})


class CheckpointOut(Schema):
    origin = fields.Function(lambda c: c.note.split("\n", 1)[0])
    size = fields.Integer()
    root_hash = fields.Function(lambda c: b64(c.root_hash), metadata={"description": "base64"})
    key_id = fields.String()
    note = fields.String(metadata={"description": "the C2SP signed note: checkpoint body and signature"})
    signed_at = fields.DateTime()


class ProofQuery(Schema):
    leaf = fields.Integer(required=True)
    size = fields.Integer(metadata={"description": "tree size; none: the latest checkpoint's"})


class ProofOut(Schema):
    leaf_index = fields.Integer()
    tree_size = fields.Integer()
    leaf_hash = fields.String(metadata={"description": "base64 of SHA-256(0x00 ‖ entry data)"})
    hashes = fields.List(fields.String(), metadata={"description": "RFC 9162 inclusion path, base64"})


class ConsistencyQuery(Schema):
    first = fields.Integer(required=True, data_key="from")
    second = fields.Integer(required=True, data_key="to")


class ConsistencyOut(Schema):
    first = fields.Integer(data_key="from")
    second = fields.Integer(data_key="to")
    hashes = fields.List(fields.String(), metadata={"description": "RFC 9162 consistency proof, base64"})


class EntriesQuery(Schema):
    start = fields.Integer(required=True)
    end = fields.Integer(required=True, metadata={"description": "exclusive; at most 1,000 entries per answer"})


class EntryOut(Schema):
    index = fields.Integer()
    data = fields.String(metadata={"description": "the leaf's bytes: canonical JSON of a journal transaction"})


class EntriesOut(Schema):
    entries = fields.List(fields.Nested(EntryOut))
