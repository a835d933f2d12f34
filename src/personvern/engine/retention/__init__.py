"""Retention sweeps: each data-map rule enforced in the table it governs, with evidence.

``table_sweep`` builds the set-based statements for one rule on one SQL table and runs
them in batches; ``sweep`` plans and runs every rule of the data map (children before
parents, a safety stop on large shares); ``evidence`` records each table's outcome in
personvern's store and audit trail.
"""
