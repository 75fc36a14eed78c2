"""The public statement ("Tra cứu đóng góp"): every received contribution, searchable."""
