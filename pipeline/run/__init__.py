"""Running a job.

Volumes and pages into tasks, skipping current work, local and Dask executors, progress,
logging context, doctor.
"""
