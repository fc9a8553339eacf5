"""Understanding articles: topics, places, people, summaries, key figures. Pure code."""
