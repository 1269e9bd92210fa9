"""WeCom callbacks: receiving them on the HTTP path, then applying each queued event."""
