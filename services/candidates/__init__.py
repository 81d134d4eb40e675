"""待核实对象: people found outside every roll (department lists, field reports), their photos, settling them."""
