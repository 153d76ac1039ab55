"""Join codes, teacher keys and the checks every value sent to the class store passes (caps in conv_lab.limits).

A join code is short and easy to read aloud; a teacher key is an independent 192-bit secret. The store keeps only
a key's SHA-256, and compares digests in constant time, so neither a code nor the database gives a key away.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from conv_lab import limits

# No 0/O, 1/I/L, 2/Z, 5/S, 8/B, U/V, G/6/b, N/M-alike E/3: letters and digits that survive a projector and a noisy room.
ALPHABET = "ACDFHJKMPRTWXY34679"
STUDENT_ID = re.compile(r"[A-Za-z0-9_-]+")
ANSWER_CHARS = re.compile(r"[0-9A-Za-z ,.×x()+=:_-]+")  # shapes, numbers, "fails": nothing a query needs quoting for
NICKNAME_CHARS = re.compile(r"[\w .-]+")  # letters of any script, digits, space, . - _


class ClassroomError(ValueError):
    """A value the class store refuses, with a plain message for the page (nothing was stored)."""


class UnknownClass(ClassroomError):
    """No live class has this code (never started, mistyped, or expired)."""


class ClassFull(ClassroomError):
    """A cap was reached: students in a class, questions in a class, or classes on this server."""


def new_code() -> str:
    """A fresh random join code of `limits.CLASS_CODE_LENGTH` characters from ALPHABET.

    >>> code = new_code(); len(code) == 6 and set(code) <= set(ALPHABET)
    True
    """
    return "".join(secrets.choice(ALPHABET) for _ in range(limits.CLASS_CODE_LENGTH))


def new_key() -> str:
    """A fresh teacher key: 192 random bits, URL-safe (independent of the code).

    >>> len(new_key()) >= 32
    True
    """
    return secrets.token_urlsafe(24)


def key_digest(key: str) -> str:
    """The SHA-256 of a key (hex): what the store keeps instead of the key.

    >>> key_digest("abc")[:8]
    'ba7816bf'
    """
    return hashlib.sha256(key.encode()).hexdigest()


def key_matches(given: object, digest: str) -> bool:
    """True when `given` is the key whose digest is stored; constant-time, and False for anything not a short str.

    >>> key_matches("abc", key_digest("abc")), key_matches("abd", key_digest("abc")), key_matches(None, "x")
    (True, False, False)
    """
    if not isinstance(given, str) or not given or len(given) > limits.MAX_TEACHER_KEY_CHARS:
        return False
    return secrets.compare_digest(key_digest(given), digest)


def display_code(code: str) -> str:
    """A code as shown to a class: two halves, e.g. 'KXM-47R'.

    >>> display_code("KXM47R")
    'KXM-47R'
    """
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") for ch in text)


def clean_code(code: object) -> str:
    """A typed join code in its stored form (upper case, spaces and dashes dropped), or a ClassroomError.

    >>> clean_code(" kxm-47r ")
    'KXM47R'
    >>> clean_code("KXM-O0R")
    Traceback (most recent call last):
    ...
    conv_lab.classroom.codes.ClassroomError: A class code has 6 characters from ACDFHJKMPRTWXY34679 (no 0, O, 1 or I).
    """
    rule = f"A class code has {limits.CLASS_CODE_LENGTH} characters from {ALPHABET} (no 0, O, 1 or I)."
    if not isinstance(code, str) or len(code) > limits.MAX_CLASS_CODE_CHARS:
        raise ClassroomError(rule)
    cleaned = code.replace(" ", "").replace("-", "").upper()
    if len(cleaned) != limits.CLASS_CODE_LENGTH or not set(cleaned) <= set(ALPHABET):
        raise ClassroomError(rule)
    return cleaned


def clean_answer(answer: object) -> str:
    """An answer as stored (spaces around it dropped), or a ClassroomError naming the rule.

    >>> clean_answer(" 16×32×32 ")
    '16×32×32'
    >>> clean_answer("1; DROP TABLE answers")
    Traceback (most recent call last):
    ...
    conv_lab.classroom.codes.ClassroomError: An answer is a shape or a number (digits, letters, × , . ( ) - only).
    """
    if not isinstance(answer, str) or len(answer) > limits.MAX_ANSWER_CHARS:
        raise ClassroomError(f"An answer has at most {limits.MAX_ANSWER_CHARS} characters.")
    answer = answer.strip()
    if not answer:
        raise ClassroomError("The answer is empty.")
    if _has_control(answer) or not ANSWER_CHARS.fullmatch(answer):
        raise ClassroomError("An answer is a shape or a number (digits, letters, × , . ( ) - only).")
    return answer


def clean_nickname(nickname: object) -> str:
    """An optional nickname as stored ('' for none), or a ClassroomError naming the rule.

    >>> clean_nickname("  Ada L. "), clean_nickname(None)
    ('Ada L.', '')
    """
    if nickname is None:
        return ""
    if not isinstance(nickname, str) or len(nickname) > limits.MAX_NICKNAME_CHARS:
        raise ClassroomError(f"A nickname has at most {limits.MAX_NICKNAME_CHARS} characters.")
    if _has_control(nickname):
        raise ClassroomError("A nickname may use letters, digits, spaces, '.', '-' and '_' only.")
    nickname = " ".join(nickname.split())
    if nickname and not NICKNAME_CHARS.fullmatch(nickname):
        raise ClassroomError("A nickname may use letters, digits, spaces, '.', '-' and '_' only.")
    return nickname


def clean_student(student: object) -> str:
    """A student id (the page makes a random one per browser tab), or a ClassroomError.

    >>> clean_student("s_1-a")
    's_1-a'
    """
    if not isinstance(student, str) or not 0 < len(student) <= limits.MAX_STUDENT_ID_CHARS \
            or not STUDENT_ID.fullmatch(student):
        raise ClassroomError(f"A student id has 1–{limits.MAX_STUDENT_ID_CHARS} letters, digits, '-' or '_'.")
    return student


def clean_question(question: object) -> str:
    """A question id as stored, or a ClassroomError (printable ASCII, no spaces, capped length).

    >>> clean_question("practice:42:1:3")
    'practice:42:1:3'
    """
    if not isinstance(question, str) or not 0 < len(question) <= limits.MAX_QUESTION_ID_CHARS \
            or not question.isascii() or not question.isprintable() or " " in question:
        raise ClassroomError(f"A question id is 1–{limits.MAX_QUESTION_ID_CHARS} printable ASCII characters.")
    return question


def clean_hours(hours: object) -> float:
    """How long a class lives, checked against `limits.MAX_CLASS_HOURS`.

    >>> clean_hours(2)
    2.0
    """
    if isinstance(hours, bool) or not isinstance(hours, (int, float)) or not 0 < hours <= limits.MAX_CLASS_HOURS:
        raise ClassroomError(f"A class lasts more than 0 and at most {limits.MAX_CLASS_HOURS:g} hours.")
    return float(hours)
