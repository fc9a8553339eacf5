"""Delivery: which chats get a story, how it reads, and the paced sender."""
