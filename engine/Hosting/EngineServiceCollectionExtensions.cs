using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using PricingOptimizer.ControlPlane;
using PricingOptimizer.EventLog;
using PricingOptimizer.EventLog.Embedded;
using PricingOptimizer.EventLog.Kafka;
using PricingOptimizer.Events;
using PricingOptimizer.Lake;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Hosting;

/// <summary>Registers the engine's services from configuration: the event log, the lake, the lander, tokens.</summary>
public static class EngineServiceCollectionExtensions
{
    public static IServiceCollection AddPricingOptimizerEngine(this IServiceCollection services)
    {
        services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<KafkaOptions>().BindConfiguration(KafkaOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LanderOptions>().BindConfiguration(LanderOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<CompactionOptions>().BindConfiguration(CompactionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Plans:{name}:{setting} changes one setting of a default plan, or adds a plan.
        services.AddOptions<PlanOptions>().Configure<IConfiguration>((o, configuration) => configuration.GetSection(PlanOptions.Section).Bind(o.Plans))
            .ValidateDataAnnotations().ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.AddSingleton<Telemetry.PoMetrics>();
        services.AddSingleton<EventValidator>();
        services.AddSingleton<IEventLog>(sp =>
        {
            var kafka = sp.GetRequiredService<IOptions<KafkaOptions>>().Value;
            return kafka.Enabled
                ? new KafkaEventLog(kafka, sp.GetRequiredService<ILogger<KafkaEventLog>>())
                : CreateEmbeddedLog(sp.GetRequiredService<IOptions<StorageOptions>>().Value, sp.GetRequiredService<TimeProvider>());
        });
        services.AddSingleton(sp => new LakeLayout(sp.GetRequiredService<IOptions<StorageOptions>>().Value.LakeRoot));
        services.AddSingleton(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            var metrics = sp.GetRequiredService<Telemetry.PoMetrics>();
            var logger = sp.GetRequiredService<ILogger<LakeQueries>>();
            return new LakeQueries(sp.GetRequiredService<LakeLayout>(), storage.QueryMemoryLimitMb, storage.QuerySpillDirectory,
                sp.GetRequiredService<IOptions<Statistics.StatisticsOptions>>().Value.CupedLookbackDays)
            {
                Time = sp.GetRequiredService<TimeProvider>(),
                Quarantined = file =>
                {
                    EngineLog.Quarantined(logger, file.OriginalPath, file.Reason);
                    metrics.QuarantinedFiles.Add(1);
                },
            };
        });
        services.AddSingleton(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<StorageOptions>>().Value;
            return new LakeCompactor(sp.GetRequiredService<LakeLayout>(), sp.GetRequiredService<IOptions<CompactionOptions>>().Value,
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<LakeCompactor>>(), storage.QueryMemoryLimitMb, storage.QuerySpillDirectory)
            {
                Metrics = sp.GetRequiredService<Telemetry.PoMetrics>(),
            };
        });
        services.AddSingleton<CsvImporter>();
        services.AddOptions<Statistics.StatisticsOptions>().BindConfiguration(Statistics.StatisticsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new Statistics.ReadoutService(sp.GetRequiredService<LakeQueries>(), sp.GetRequiredService<IExperimentStore>(),
            sp.GetRequiredService<IOptions<Statistics.StatisticsOptions>>().Value, sp.GetService<IAllocationStore>()));
        // Configured bands replace the default bands (binding a list would append to them).
        services.AddOptions<Pricing.CharmOptions>().Configure<IConfiguration>((o, configuration) =>
        {
            var bands = configuration.GetSection(Pricing.CharmOptions.Section + ":Bands");
            if (bands.Exists())
            {
                o.Bands = bands.Get<List<Pricing.CharmBand>>() ?? [];
            }
        }).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<Pricing.RecommendationOptions>().BindConfiguration(Pricing.RecommendationOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton(sp => new Pricing.CharmPricing(sp.GetRequiredService<IOptions<Pricing.CharmOptions>>().Value));
        services.AddSingleton(sp => new Pricing.DemandModelFolder(sp.GetRequiredService<IOptions<StorageOptions>>().Value.ModelsRoot));
        services.AddSingleton<Pricing.PricingService>();
        services.AddSingleton<Analytics.DashboardService>();
        services.AddSingleton<Analytics.TimeseriesService>();
        services.AddSingleton(sp => new Reports.ReportGatherer(sp.GetRequiredService<LakeQueries>(), sp.GetRequiredService<IExperimentStore>(),
            sp.GetRequiredService<Statistics.ReadoutService>(), sp.GetRequiredService<Pricing.PricingService>(), sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ITenantStore>(), sp.GetRequiredService<Usage.BillingService>()));
        services.AddSingleton<Reports.MonthlyReport>();
        services.AddOptions<Billing.BillingOptions>().BindConfiguration(Billing.BillingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Billing.ManualLedger>();
        services.AddSingleton(sp => new Billing.BillingAdapterFactory(sp.GetRequiredService<IOptions<Billing.BillingOptions>>(),
            sp.GetRequiredService<KeyManager>(),
            sp.GetRequiredService<Billing.ManualLedger>()));
        services.AddSingleton<Billing.IBillingAdapterFactory>(sp => sp.GetRequiredService<Billing.BillingAdapterFactory>());
        services.AddSingleton<Billing.BillingDispatcher>();
        services.AddSingleton<Billing.BillingAdapterChoice>();
        services.AddOptions<Reports.ReportScheduleOptions>().BindConfiguration(Reports.ReportScheduleOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<Reports.ReportScheduler>();
        services.AddSingleton(sp => new Lander(sp.GetRequiredService<IEventLog>(), sp.GetRequiredService<LakeLayout>(),
            sp.GetRequiredService<IOptions<LanderOptions>>().Value, sp.GetRequiredService<ILogger<Lander>>(), sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IControlPlaneStore>(sp =>
        {
            var store = CreateControlPlane(sp.GetRequiredService<IOptions<StorageOptions>>().Value);
            if (store is SqliteControlPlaneStore sqlite)
            {
                sqlite.LocalChanges = sp.GetRequiredService<ControlPlaneChanges>();
            }

            return store;
        });
        // One store, seen by each service through the aggregate it uses.
        services.AddSingleton<ITenantStore>(sp => sp.GetRequiredService<IControlPlaneStore>());
        services.AddSingleton<IProviderKeyStore>(sp => sp.GetRequiredService<IControlPlaneStore>());
        services.AddSingleton<IExperimentStore>(sp => sp.GetRequiredService<IControlPlaneStore>());
        services.AddSingleton<IUsageStore>(sp => sp.GetRequiredService<IControlPlaneStore>());
        services.AddSingleton<IBillingStore>(sp => sp.GetRequiredService<IControlPlaneStore>());
        services.AddSingleton<IAllocationStore>(sp => sp.GetRequiredService<IControlPlaneStore>());
        services.AddSingleton<ControlPlaneChanges>();
        services.AddSingleton<ControlPlane.Postgres.PostgresChangeListener>();
        services.AddHostedService(sp => sp.GetRequiredService<ControlPlane.Postgres.PostgresChangeListener>());
        services.AddSingleton<TenantService>();
        services.AddOptions<KeyManagerOptions>().BindConfiguration(KeyManagerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<KeyManager>();
        services.AddSingleton<ControlPlaneStatus>();
        services.AddSingleton<Experiments.ExperimentDefinitions>();
        services.AddSingleton<Experiments.ExperimentService>();
        services.AddSingleton<Experiments.ExperimentAssignments>();
        services.AddSingleton<Adaptive.AllocationService>();
        services.AddSingleton<AllocationUpdater>();
        services.AddSingleton<Usage.ApiCallCounter>();
        services.AddSingleton<Usage.UsageService>();
        services.AddSingleton<Usage.BillingService>();
        services.AddSingleton<Usage.UsageTrendService>();
        services.AddSingleton(sp => new TokenIssuer(sp.GetRequiredService<IOptions<AuthOptions>>().Value, sp.GetRequiredService<TimeProvider>()));
        return services;
    }

    /// <summary>PostgreSQL when <c>Storage:ControlPlane</c> names a server (<c>Host=…</c> or <c>postgres://…</c>), else the SQLite file.</summary>
    private static IControlPlaneStore CreateControlPlane(StorageOptions storage)
    {
        var connectionString = storage.ControlPlaneConnectionString;
        return ConnectionStrings.IsPostgres(connectionString)
            ? new ControlPlane.Postgres.PostgresControlPlaneStore(connectionString)
            : new SqliteControlPlaneStore(connectionString);
    }

    private static SqliteEventLog CreateEmbeddedLog(StorageOptions storage, TimeProvider time) =>
        new(storage.EventLogPath, TimeSpan.FromHours(storage.EventLogRetentionHours), time);
}

/// <summary>Runs the <see cref="Lander"/> as a hosted service (in <c>po land</c>, and inside the API in embedded mode).</summary>
public sealed class LanderService(Lander lander) : Microsoft.Extensions.Hosting.BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => lander.RunAsync(stoppingToken);
}

/// <summary>
/// Compacts the lake every <see cref="CompactionOptions.IntervalSeconds"/> (in <c>po land</c>, and inside the API in
/// embedded mode) unless <c>Compaction:Background</c> is false. A failed pass is logged and the next one tries again.
/// </summary>
public sealed class CompactorService(LakeCompactor compactor, IOptions<CompactionOptions> options, TimeProvider time, ILogger<CompactorService> logger)
    : Microsoft.Extensions.Hosting.BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Background)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.Value.IntervalSeconds), time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await compactor.CompactAsync(cancellationToken: stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                CompactorServiceLog.PassFailed(logger, e);
            }
        }
    }
}

internal static partial class EngineLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "Moved {File} to quarantine: it cannot be read ({Reason}); reads go on without it")]
    public static partial void Quarantined(ILogger logger, string file, string reason);
}

internal static partial class CompactorServiceLog
{
    [LoggerMessage(Level = LogLevel.Error, Message = "A compaction pass failed; the next pass tries again")]
    public static partial void PassFailed(ILogger logger, Exception exception);
}
