"""The national qualification: schemes as data, applications, board review, qualifications, local lists."""
