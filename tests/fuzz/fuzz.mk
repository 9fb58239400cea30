# (placeholder: filled in by the datapath work)
