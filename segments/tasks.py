from celery import shared_task

from segments import services


@shared_task(acks_late=True)
def execute_segment_run_task(run_id: int) -> None:
    services.execute_segment_run(run_id=run_id)


@shared_task
def start_scheduled_segment_runs() -> int:
    return len(services.start_scheduled_runs())
