using System.Text.Json;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using PricingOptimizer.EventLog;
using PricingOptimizer.EventLog.Kafka;
using PricingOptimizer.Hosting;
using PricingOptimizer.Lake;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.IngestApi;

/// <summary>The ingest API's registrations and middleware, in one place for Program.cs, the demo and the tests.</summary>
public static class IngestApiExtensions
{
    public const string TenantPolicy = "tenant";

    public static WebApplicationBuilder AddPricingOptimizerIngestApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddPricingOptimizerEngine();
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.CustomizeProblemDetails);
        services.AddExceptionHandler<Problems>();
        // Body binding errors (unreadable JSON, a wrong JSON type) throw, so Problems names the field.
        services.Configure<Microsoft.AspNetCore.Routing.RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.ConfigureHttpJsonOptions(o => Json.Wire.Apply(o.SerializerOptions));

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenIssuer, TimeProvider>((o, issuer, time) =>
            {
                o.MapInboundClaims = false;
                o.TokenHandlers.Clear();
                o.TokenHandlers.Add(new CachingTokenHandler(time) { MapInboundClaims = false });
                o.TokenValidationParameters = issuer.ValidationParameters();
                o.Events = TenantTokenEvents.Create();
            });
        services.AddSingleton<TenantRateLimits>();
        services.AddReadinessChecks();
        services.AddOperatorMetrics();
        services.AddPricingOptimizerOpenApi();
        services.AddHostedService<PricingOptimizer.Usage.ApiCallFlusher>();
        // One budget per tenant across processes when they share a PostgreSQL control plane; else this process's memory.
        services.TryAddSingleton<IRequestWindows>(sp => sp.GetRequiredService<PricingOptimizer.ControlPlane.IControlPlaneStore>() is PricingOptimizer.ControlPlane.Postgres.PostgresControlPlaneStore postgres
            ? new PricingOptimizer.ControlPlane.Postgres.PostgresRequestWindows(postgres)
            : new InMemoryRequestWindows());
        services.AddSingleton<AdminGate>();
        services.AddAuthorizationBuilder()
            .AddPolicy(TenantPolicy, p => p.RequireAuthenticatedUser().RequireClaim(TenantClaims.TenantId));

        // One process serves one machine: with the embedded log, the API lands its own events.
        var kafka = builder.Configuration.GetSection(KafkaOptions.Section).Get<KafkaOptions>() ?? new KafkaOptions();
        var lander = builder.Configuration.GetSection(LanderOptions.Section).Get<LanderOptions>() ?? new LanderOptions();
        if (!kafka.Enabled && lander.HostInApi)
        {
            services.AddHostedService<LanderService>();
            services.AddHostedService<PricingOptimizer.Hosting.CompactorService>();
        }

        // Adaptive experiments' weights: every API process may run the updater; with PostgreSQL one at a time updates.
        services.AddHostedService(sp => sp.GetRequiredService<PricingOptimizer.Hosting.AllocationUpdater>());

        var billing = builder.Configuration.GetSection(Billing.BillingOptions.Section).Get<Billing.BillingOptions>() ?? new Billing.BillingOptions();
        if (!kafka.Enabled && billing.HostInApi)
        {
            services.AddHostedService<Billing.BillingDispatcherService>();
        }

        return builder;
    }

    /// <summary>Every endpoint of the API.</summary>
    public static IEndpointRouteBuilder MapPricingOptimizerIngestApi(this IEndpointRouteBuilder app)
    {
        app.MapOpenApi().WithName("OpenApi").WithSummary("This document: every endpoint, its schemas and security.").WithTags("health");
        var api = app.MapGroup("").WithProblemResponses();
        api.MapHealthApi().MapMetricsApi().MapEventsApi().MapAdminApi().MapAuthApi().MapProviderKeysApi().MapExperimentsApi().MapAssignmentApi().MapUsageApi()
            .MapBillingAdaptersApi().MapAnalyticsApi();
        app.MapDashboardApp();
        return app;
    }

    public static WebApplication UsePricingOptimizerIngestApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.Use(app.Services.GetRequiredService<TenantRateLimits>().InvokeAsync);
        app.Use(app.Services.GetRequiredService<AdminGate>().InvokeAsync);
        app.Use(RequestBodyLimits.InvokeAsync);
        app.UseUsageTracking();
        app.UseAuthorization();

        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("PricingOptimizer.IngestApi");
        var log = app.Services.GetRequiredService<IEventLog>();
        ApiLog.Starting(logger, log.Kind, app.Services.GetRequiredService<LakeLayout>().Root);
        if (auth.UsesDevelopmentKey)
        {
            ApiLog.DevelopmentKey(logger);
        }

        return app;
    }
}
