"""Study design: arms, waves, allocation, linkage. Pure: no Flask, no DB."""
