"""Social platforms behind one small interface (see base.SocialProvider); build them with
verification.accounts.build_providers(settings)."""
from verification.providers.base import (
    Account, AccountNotFound, AccountProtected, AuthFailed, Backoff, MediaItem, MediaPost, ProviderUnavailable,
    RateLimited, SocialError, SocialProvider, TextPost,
)

__all__ = ["Account", "AccountNotFound", "AccountProtected", "AuthFailed", "Backoff", "MediaItem", "MediaPost",
           "ProviderUnavailable", "RateLimited", "SocialError", "SocialProvider", "TextPost"]
