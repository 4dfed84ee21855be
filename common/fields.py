from django.db import models


class FixedCharField(models.CharField):
    """A fixed-length ``character(n)`` column, as the service page's ``CHAR(3)`` asks for."""

    def db_type(self, connection):
        return f"char({self.max_length})"
