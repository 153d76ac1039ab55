"""Live class: join codes, teacher keys and a store of students' answers (SQLite, or PostgreSQL via psycopg 3),
plus the class's questions, their slip diagnosis and the real torch result (`classroom.questions`)."""

from conv_lab.classroom.codes import ClassFull, ClassroomError, UnknownClass, display_code
from conv_lab.classroom.store import WRONG_KEY, ClassState, ClassStore, default_hours, open_store, shared_store

__all__ = ["WRONG_KEY", "ClassFull", "ClassState", "ClassStore", "ClassroomError", "UnknownClass", "default_hours",
           "display_code", "open_store", "shared_store"]
