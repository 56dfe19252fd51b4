"""Spiking networks on Brian2: neuron models, reservoirs, liquids, encoders, state extraction."""
