"""Storage access per cloud: listing, ranged reads, writes, signing, and the ledger's compare-and-swap."""
