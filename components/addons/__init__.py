"""Cluster add-ons: pure values builders (one module per add-on) and the components that install them."""
