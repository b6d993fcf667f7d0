"""The ownership gate: proof that an uploader owns the art (hashing, matching, registry, social providers)."""
