"""ValueRelay: answers for field teams, quoted from the refined sources themselves."""
