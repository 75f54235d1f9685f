# One date format across the app: ISO-like dates and 24-hour times, in the user's zone
# (recomamp/user_timezone.py). Templates use {{ value }} or |date:"DATETIME_FORMAT", not ad hoc formats.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
TIME_FORMAT = "H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "M Y"
