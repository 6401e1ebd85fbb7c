using PricingOptimizer.IngestApi;

if (args.Any(a => a is "--help" or "-h" or "-?" or "help"))
{
    Console.WriteLine("""
        PricingOptimizer ingest API: receives assign and convert events, serves readouts, recommendations and the dashboard.

        Usage: dotnet run --project ingest-api [-- --urls http://127.0.0.1:5080] [--Section:Key value ...]

        Settings come from appsettings.json, environment variables (Section__Key) and --Section:Key arguments, e.g.
          --urls http://0.0.0.0:8080          where to listen
          --Storage:DataDirectory ./data      the embedded event log, control plane and lake
          --Storage:ControlPlane postgres://user:pass@host:5432/db   a shared PostgreSQL control plane
          --Kafka:BootstrapServers host:9092  Kafka instead of the embedded log
          --Auth:SigningKey <base64, 32+ bytes>  the key tokens are signed with (required outside development)
          --Auth:AdminKey <secret>            enables the admin API (X-Admin-Key)
        The README lists every setting and the endpoints; GET /openapi/v1.json describes the API.
        """);
    return;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddPricingOptimizerIngestApi();

var app = builder.Build();
app.UsePricingOptimizerIngestApi();
app.MapPricingOptimizerIngestApi();
app.Run();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
