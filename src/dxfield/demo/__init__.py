"""The Hyogo R6 demo: the whole source document as a dataset, loaded into a store."""
