"""Every kind of background job and the function that runs it (a dotted path, imported by the worker only).

A runner is `run(job, progress) -> Output`: it reads `job.params` and `job.owner`, calls `progress(done, total)`
as it goes (cheap: written at most about once a second) and returns the file it wrote (services.Output).
"""

KINDS = {
    "export_cases": "gridcase.reports.exports.run_case_export",
    "export_residents": "gridcase.reports.exports.run_resident_export",
    "monthly_report": "gridcase.reports.monthly.run_job",
}
