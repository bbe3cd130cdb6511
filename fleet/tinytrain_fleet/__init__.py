"""A fleet of tinytrain devices learning together on Flower: a ``ClientApp`` per simulated
device (its own region of the data, tinytrain's trainer), a ``ServerApp`` running Flower's
``FedAvg`` after a round that fixes the shared standardisation. See ``fleet/README.md``."""
