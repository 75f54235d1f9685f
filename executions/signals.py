from django.dispatch import Signal

# Sent once when an execution reaches a final status (succeeded, failed, cancelled); `execution_pk` is given.
# Schedules update their runs, notifications go out and deliveries start from here, so every trigger
# (manual, schedule, test) gets the same follow-up.
execution_finished = Signal()
