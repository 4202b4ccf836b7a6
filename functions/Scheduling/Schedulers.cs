using Microsoft.Extensions.Options;
using RelayFunctions.Hosting.Queues;
using RelayFunctions.IpHelpers;
using RelayFunctions.Storage;

namespace RelayFunctions.Scheduling;

/// <summary>Enqueues checks on <c>helper-checks</c> for every helper whose due time has come, in batches.</summary>
public sealed class CheckScheduler(ScheduleIndex index, QueueWriter queues, TimeProvider time, IOptions<HelperOptions> options, ILogger<CheckScheduler> logger)
    : DueScheduler(index, queues, StorageNames.HelperChecksQueue, "helpers", time, options, logger, options.Value.CheckBatchSize);

/// <summary>Enqueues a check on <c>domain-verifications</c> for every domain whose verification is due.</summary>
public sealed class VerificationScheduler(VerificationIndex index, QueueWriter queues, TimeProvider time, IOptions<HelperOptions> options, ILogger<VerificationScheduler> logger)
    : DueScheduler(index, queues, StorageNames.DomainVerificationsQueue, "verifications", time, options, logger);

/// <summary>Enqueues a lookup on <c>filter-lookups</c> for every outbound account whose host-name filters are due.</summary>
public sealed class FilterScheduler(FilterIndex index, QueueWriter queues, TimeProvider time, IOptions<HelperOptions> options, ILogger<FilterScheduler> logger)
    : DueScheduler(index, queues, StorageNames.FilterLookupsQueue, "filter lookups", time, options, logger);
