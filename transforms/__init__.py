"""Extract and transform stages: raw page → Extracted (what the page says) → Article (clean, normalised)."""
