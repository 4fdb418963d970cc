"""Geography: the children's services authorities, offline postcode lookup and distances."""
