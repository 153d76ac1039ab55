"""Practice: seeded question sets per level, slip diagnosis and answer checking. Imports core only; the Shape
Lab's predict-first mode uses `practice.slips` too."""
