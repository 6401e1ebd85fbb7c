using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PricingOptimizer.IngestApi;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary>The real ingest API on Kestrel, on a free loopback port, inside this process (demo and benchmarks).</summary>
public sealed class LocalIngestApi : IAsyncDisposable
{
    private readonly WebApplication app;

    private LocalIngestApi(WebApplication app, Uri address)
    {
        this.app = app;
        Address = address;
    }

    public Uri Address { get; }

    public IServiceProvider Services => app.Services;

    public static async Task<LocalIngestApi> StartAsync(IConfiguration configuration, LogLevel logLevel, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ApplicationName = typeof(IngestApiExtensions).Assembly.GetName().Name });
        builder.Configuration.AddConfiguration(configuration);
        builder.Logging.SetMinimumLevel(logLevel);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddPricingOptimizerIngestApi();
        var app = builder.Build();
        app.UsePricingOptimizerIngestApi();
        app.MapPricingOptimizerIngestApi();
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new LocalIngestApi(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}
