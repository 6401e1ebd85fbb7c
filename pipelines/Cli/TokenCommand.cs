using System.CommandLine;
using Microsoft.Extensions.Configuration;
using PricingOptimizer.Lake;
using PricingOptimizer.Tenancy;

namespace PricingOptimizer.Pipelines.Cli;

/// <summary><c>po token</c>: a development token signed with the configured key.</summary>
public static class TokenCommand
{
    public static Command Create()
    {
        var tenant = new Option<string>("--tenant") { Description = "Tenant id (letters, digits, '-', '_')", Required = true };
        var plan = new Option<string>("--plan") { Description = "Plan claim", DefaultValueFactory = _ => "free" };
        var hours = new Option<int?>("--hours") { Description = "Lifetime in hours, 1 to 8760. Default: Auth:TokenLifetimeHours" };
        var command = new Command("token", "Mint a development JWT for a tenant from Auth:SigningKey (real tokens come from POST /v1/auth/token).")
        {
            tenant, plan, hours,
        };
        command.SetAction(parse =>
        {
            var tenantId = parse.GetValue(tenant)!;
            if (parse.GetValue(hours) is { } given && given is < 1 or > 8760)
            {
                throw new CliException($"--hours {given}: a token lives from 1 to 8760 hours");
            }

            if (!LakeLayout.IsValidTenantId(tenantId))
            {
                throw new CliException($"--tenant '{tenantId}' must be 1-64 characters of letters, digits, '-' or '_'");
            }

            var options = CommonOptions.Configuration(null, null).GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
            var problems = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
            if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), problems, validateAllProperties: true))
            {
                throw new CliException(problems[0].ErrorMessage ?? "Auth settings are invalid");
            }

            if (options.UsesDevelopmentKey)
            {
                Console.Error.WriteLine("warning: Auth:SigningKey is not set; this token is signed with the public development key.");
            }

            var lifetime = parse.GetValue(hours) is { } h ? TimeSpan.FromHours(h) : (TimeSpan?)null;
            Console.WriteLine(new TokenIssuer(options, TimeProvider.System).Issue(tenantId, parse.GetValue(plan)!, lifetime));
            return 0;
        });
        return command;
    }
}
