from flask_smorest import Blueprint

from ..database import reads_only
from . import log, service
from .schemas import (
    CheckpointOut,
    CheckpointQuery,
    ConsistencyOut,
    ConsistencyQuery,
    EntriesOut,
    EntriesQuery,
    KeysOut,
    ProofOut,
    ProofQuery,
    b64,
)

blp = Blueprint("transparency", __name__, url_prefix="/transparency",
                description="The public, append-only log of every journal transaction: no token needed")


@blp.get("/keys")
@blp.response(200, KeysOut)
@reads_only
def get_keys():
    """Every public key that has signed receipts and checkpoints, the active one first."""
    service.ensure_key_on_record()  # a fresh ledger publishes its key before the first receipt
    return {"origin": log.origin(), "keys": service.published_keys()}


@blp.get("/checkpoint")
@blp.arguments(CheckpointQuery(), location="query")
@blp.response(200, CheckpointOut)
@reads_only
def get_checkpoint(args):
    """The latest signed checkpoint (signed now if the log grew), or a stored one by size."""
    return log.checkpoint_at(args.get("size"))


@blp.get("/proof")
@blp.arguments(ProofQuery(), location="query")
@blp.response(200, ProofOut)
@reads_only
def get_inclusion_proof(args):
    """RFC 9162 inclusion proof of entry `leaf` in the tree of `size` entries."""
    size = args.get("size") or log.checkpoint_at(None).size
    hashes, leaf_hash = log.inclusion_proof(args["leaf"], size, with_leaf=True)
    return {"leaf_index": args["leaf"], "tree_size": size, "leaf_hash": b64(leaf_hash),
            "hashes": [b64(h) for h in hashes]}


@blp.get("/consistency")
@blp.arguments(ConsistencyQuery(), location="query")
@blp.response(200, ConsistencyOut)
@reads_only
def get_consistency_proof(args):
    """RFC 9162 consistency proof between the trees of `from` and `to` entries."""
    hashes = log.consistency_proof(args["first"], args["second"])
    return {"first": args["first"], "second": args["second"], "hashes": [b64(h) for h in hashes]}


@blp.get("/entries")
@blp.arguments(EntriesQuery(), location="query")
@blp.response(200, EntriesOut)
@reads_only
def get_entries(args):
    """The entries [start, end): each one's data is exactly the bytes its leaf hashes."""
    return {"entries": log.entries(args["start"], args["end"])}
