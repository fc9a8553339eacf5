"""Getting articles in: fetch, parse, extract, clean, read files, poll sources."""
