"""Reprints and stories: recognising the same press release and the same event."""
